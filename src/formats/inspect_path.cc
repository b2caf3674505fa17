// InspectPath and the reports for safetensors files and HF checkpoint directories.
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "formats/inspect_path.h"

#include "formats/file_report.h"
#include "formats/generation_config.h"
#include "formats/hf_config.h"
#include "formats/safetensors_model.h"
#include "platform/mapped_file.h"
#include "platform/read_file.h"

namespace dsinfer {
namespace {

using nlohmann::json;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The typed config, defaults applied: what dsinfer will actually run with.
json HfHyperparameters(const HfConfig& c) {
  json h = {{"model_type", HfModelTypeName(c.model_type)},
            {"hidden_size", c.hidden_size},
            {"intermediate_size", c.intermediate_size},
            {"num_hidden_layers", c.num_hidden_layers},
            {"num_attention_heads", c.num_attention_heads},
            {"num_key_value_heads", c.num_key_value_heads},
            {"head_dim", c.head_dim},
            {"vocab_size", c.vocab_size},
            {"max_position_embeddings", c.max_position_embeddings},
            {"rope_theta", c.rope_theta},
            {"rms_norm_eps", c.rms_norm_eps},
            {"tie_word_embeddings", c.tie_word_embeddings},
            {"qkv_bias", c.qkv_bias()}};
  if (!c.torch_dtype.empty()) h["torch_dtype"] = c.torch_dtype;
  if (c.rope_scaling) {
    const RopeScaling& r = *c.rope_scaling;
    json rope = {{"type", r.type}, {"factor", r.factor}};
    if (r.original_max_position_embeddings) {
      rope["original_max_position_embeddings"] = *r.original_max_position_embeddings;
    }
    if (r.type == "yarn") {
      rope.update({{"beta_fast", r.beta_fast},
                   {"beta_slow", r.beta_slow},
                   {"mscale", r.mscale},
                   {"mscale_all_dim", r.mscale_all_dim}});
    }
    if (r.type == "llama3") {
      rope.update(
          {{"low_freq_factor", r.low_freq_factor}, {"high_freq_factor", r.high_freq_factor}});
    }
    h["rope_scaling"] = std::move(rope);
  }
  if (c.is_moe()) {
    h.update({{"moe_intermediate_size", c.moe_intermediate_size},
              {"n_routed_experts", c.n_routed_experts},
              {"n_shared_experts", c.n_shared_experts},
              {"num_experts_per_tok", c.num_experts_per_tok},
              {"first_k_dense_replace", c.first_k_dense_replace},
              {"moe_layer_freq", c.moe_layer_freq},
              {"n_group", c.n_group},
              {"topk_group", c.topk_group},
              {"topk_method", c.topk_method},
              {"scoring_func", c.scoring_func},
              {"routed_scaling_factor", c.routed_scaling_factor},
              {"norm_topk_prob", c.norm_topk_prob}});
  }
  if (c.uses_mla()) {
    h["q_lora_rank"] = c.q_lora_rank ? json(*c.q_lora_rank) : json(nullptr);
    h.update({{"kv_lora_rank", c.kv_lora_rank},
              {"qk_nope_head_dim", c.qk_nope_head_dim},
              {"qk_rope_head_dim", c.qk_rope_head_dim},
              {"v_head_dim", c.v_head_dim},
              {"num_nextn_predict_layers", c.num_nextn_predict_layers}});
  }
  if (c.quantization_config) {
    const QuantizationConfig& q = *c.quantization_config;
    h["quantization"] = {{"quant_method", q.quant_method},
                         {"fmt", q.fmt},
                         {"weight_block_size", q.weight_block_size}};
  }
  if (c.bos_token_id) h["bos_token_id"] = *c.bos_token_id;
  if (!c.eos_token_ids.empty()) h["eos_token_id"] = c.eos_token_ids;
  return h;
}

json GenerationConfigToJson(const GenerationConfig& g) {
  json out = json::object();
  const auto put = [&](const char* key, const auto& field) {
    if (field) out[key] = *field;
  };
  put("bos_token_id", g.bos_token_id);
  if (!g.eos_token_ids.empty()) out["eos_token_id"] = g.eos_token_ids;
  put("pad_token_id", g.pad_token_id);
  put("temperature", g.temperature);
  put("top_p", g.top_p);
  put("top_k", g.top_k);
  put("do_sample", g.do_sample);
  put("max_length", g.max_length);
  put("max_new_tokens", g.max_new_tokens);
  put("repetition_penalty", g.repetition_penalty);
  return out;
}

json SafetensorsTensors(const SafetensorsModel& model) {
  json tensors = json::array();
  for (const auto& entry : model.tensors()) {
    const SafetensorsTensor& t = *entry.tensor;
    tensors.push_back(
        {{"name", t.name},
         {"dtype", DTypeName(t.dtype)},
         {"shape", std::vector<int64_t>(t.shape.dims().begin(), t.shape.dims().end())},
         {"shard", entry.shard},
         {"bytes", t.data_end - t.data_begin},
         {"parameters", *t.shape.NumElements()}});
  }
  return tensors;
}

StatusOr<json> SafetensorsReport(const std::string& path, bool is_directory) {
  json report;
  report["format"] = is_directory ? "hf" : "safetensors";
  report["path"] = path;
  report["architecture"] = "";
  report["hyperparameters"] = json::object();
  if (is_directory) {
    const std::string config_path = path + "/config.json";
    if (!FileExists(config_path)) {
      return NotFoundError(fmt::format(
          "{}: not a model directory: no config.json (expected an HF checkpoint: config.json + "
          "*.safetensors)",
          path));
    }
    DSI_ASSIGN_OR_RETURN(const HfConfig config, LoadHfConfig(config_path));
    report["architecture"] = HfModelTypeName(config.model_type);
    report["architectures"] = config.architectures;
    report["hyperparameters"] = HfHyperparameters(config);
    DSI_ASSIGN_OR_RETURN(const std::optional<GenerationConfig> generation,
                         LoadGenerationConfig(path));
    if (generation) report["generation_config"] = GenerationConfigToJson(*generation);
  }
  DSI_ASSIGN_OR_RETURN(const SafetensorsModel model, SafetensorsModel::Open(path));
  json shards = json::array();
  json metadata = json::array();  // each shard's "__metadata__" (string to string)
  for (size_t i = 0; i < model.shards().size(); ++i) {
    const SafetensorsFile& shard = model.shards()[i];
    shards.push_back({{"file", shard.name()},
                      {"bytes", shard.file_size()},
                      {"tensors", shard.tensors().size()}});
    for (const auto& [key, value] : shard.metadata()) {
      metadata.push_back({{"key", key}, {"type", "STRING"}, {"value", value}, {"shard", i}});
    }
  }
  report["shards"] = std::move(shards);
  report["metadata"] = std::move(metadata);
  json tensors = SafetensorsTensors(model);
  report["totals"] = ReportTotals(tensors);
  report["tensors"] = std::move(tensors);
  return report;
}

}  // namespace

StatusOr<json> InspectPath(const std::string& path) {
  if (IsDirectory(path)) return SafetensorsReport(path, /*is_directory=*/true);
  if (EndsWith(path, ".safetensors")) return SafetensorsReport(path, /*is_directory=*/false);
  DSI_ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> mapped, MappedFile::Open(path));
  const auto bytes = mapped->bytes();
  if (!EndsWith(path, ".gguf") && (bytes.size() < 4 || std::memcmp(bytes.data(), "GGUF", 4) != 0)) {
    return InvalidArgumentError(fmt::format(
        "{}: not a GGUF file (no \"GGUF\" magic) and not a .safetensors file or model directory",
        path));
  }
  DSI_ASSIGN_OR_RETURN(const GgufFile file, GgufFile::Parse(bytes, path, std::move(mapped)));
  return GgufReport(file);
}

}  // namespace dsinfer
