// `dsinfer random-model --arch A [--like NAME] [--layers N] [--type T] [--seed S]
// [--legacy-kv-b] --format gguf|hf -o OUT`: a model with random weights in the exact layout,
// tensor names and metadata of a real checkpoint: a GGUF file (model/random_model.h) or an HF
// checkpoint directory (model/random_hf_model.h) holding the same values.
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "app/commands.h"
#include "model/model_presets.h"
#include "model/random_hf_model.h"
#include "model/random_model.h"
#include "tokenizer/load_tokenizer.h"
#include "tokenizer/tokenizer_gguf_metadata.h"

namespace dsinfer {

namespace {

struct RandomModelArgs {
  std::string arch;
  std::string like;
  int64_t layers = 0;  // 0: the preset's
  std::string type = "f32";
  uint64_t seed = 0;
  bool legacy_kv_b = false;
  std::string format = "gguf";
  std::string output;
  std::string tokenizer;  // an HF directory with tokenizer.json: its vocabulary goes into the GGUF
};

StatusOr<RandomModelSummary> RunRandomModel(const RandomModelArgs& args) {
  const std::optional<ModelArch> arch = ModelArchFromName(args.arch);
  if (!arch) {
    return InvalidArgumentError(
        fmt::format("--arch '{}' is not one of llama, qwen2, deepseek, deepseek2", args.arch));
  }
  const std::string like = args.like.empty() ? std::string(DefaultPresetFor(*arch)) : args.like;
  DSI_ASSIGN_OR_RETURN(ModelConfig config, ModelPreset(like));
  if (config.arch != *arch) {
    return InvalidArgumentError(
        fmt::format("--like {} is arch {}, not {}", like, ModelArchName(config.arch), args.arch));
  }
  if (args.layers != 0) {
    DSI_ASSIGN_OR_RETURN(config, WithLayers(config, args.layers));
  }
  // "fp8": DeepSeek-V3's block-scaled FP8 checkpoint layout (HF only); Q4_K_M and the other
  // mixtures: llama-quantize's per-tensor types (GGUF only).
  const std::optional<QuantMixture> mixture = QuantMixtureFromName(args.type);
  const std::optional<DType> dtype = mixture ? std::optional(GetQuantMixtureInfo(*mixture).base)
                                     : args.type == "fp8" ? std::optional(DType::kF8E4M3)
                                                          : DTypeFromName(args.type);
  if (!dtype)
    return InvalidArgumentError(fmt::format("--type '{}' is not a known type", args.type));
  if (mixture && args.format == "hf") {
    return InvalidArgumentError(fmt::format(
        "--type {}: HF checkpoints hold one type; mixtures are for GGUF files", args.type));
  }
  const TensorLayoutOptions layout{.kv_b_form =
                                       args.legacy_kv_b ? MlaKvBForm::kFused : MlaKvBForm::kSplit};
  if (args.format == "hf") {
    DSI_ASSIGN_OR_RETURN(
        const RandomHfSummary hf,
        WriteRandomHf(config, {.dtype = *dtype, .seed = args.seed, .layout = layout}, args.output));
    return RandomModelSummary{
        .tensors = hf.tensors, .parameters = hf.parameters, .file_bytes = hf.bytes};
  }
  if (args.format != "gguf") {
    return InvalidArgumentError(fmt::format("--format {} is not gguf or hf", args.format));
  }
  RandomModelOptions options{.dtype = *dtype,
                             .mixture = mixture,
                             .seed = args.seed,
                             .layout = layout,
                             .name = fmt::format("random {}", like)};
  if (!args.tokenizer.empty()) {
    // The embedding gets one row per token id of the tokenizer.
    DSI_ASSIGN_OR_RETURN(const tokenizer::Tokenizer tok, tokenizer::LoadTokenizer(args.tokenizer));
    config.vocab_size = tok.vocab_size();
    DSI_ASSIGN_OR_RETURN(
        std::optional<std::vector<GgufKeyValue>> keys,
        tokenizer::TokenizerGgufMetadataFromDir(args.tokenizer, config.vocab_size));
    if (!keys.has_value()) {
      return InvalidArgumentError(fmt::format("--tokenizer {}: no tokenizer.json", args.tokenizer));
    }
    if (const std::optional<int32_t> bos = tok.bos_id()) config.bos_token_id = *bos;
    if (const std::optional<int32_t> eos = tok.eos_id()) config.eos_token_id = *eos;
    options.extra_metadata = std::move(*keys);
  } else {
    options.extra_metadata = tokenizer::NoVocabularyGgufMetadata();
  }
  return WriteRandomGguf(config, options, args.output);
}

}  // namespace

void RegisterRandomModelCommand(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<RandomModelArgs>();
  CLI::App* cmd = app.add_subcommand(
      "random-model", "Write a model with random weights in the exact layout of a real one");
  cmd->add_option("--arch", args->arch, "llama|qwen2|deepseek|deepseek2")->required();
  cmd->add_option("--like", args->like,
                  "shape preset (default tiny-<arch>): deepseek-llm-7b, deepseek-coder-6.7b, "
                  "r1-distill-llama-8b, r1-distill-qwen-1.5b, r1-distill-qwen-7b, "
                  "deepseek-moe-16b, v2-lite, v2, v3, r1, tiny-llama, tiny-qwen2, "
                  "tiny-deepseek, tiny-deepseek2, tiny-v2-lite, tiny-v2, tiny-r1 (rows of 256), "
                  "tiny-llama-linear, tiny-llama3");
  cmd->add_option("--layers", args->layers, "keep only the first N decoder layers");
  cmd->add_option("--type", args->type,
                  "weight type: f32|f16|bf16|q8_0|q4_0|q4_k|q6_k|... (norms stay f32; rows a "
                  "type cannot hold fall back as llama.cpp does); iq2_xxs|iq2_xs|iq2_s|iq3_xxs|"
                  "iq3_s|iq1_s|iq1_m, which dsinfer cannot quantise to, get random codes "
                  "scaled to the same spread; or one of llama.cpp's mixtures (gguf): " +
                      QuantMixtureNames());
  cmd->add_option("--seed", args->seed, "random seed (same seed, same file)");
  cmd->add_flag("--legacy-kv-b", args->legacy_kv_b,
                "MLA: one attn_kv_b per layer (pre-2025 llama.cpp files) instead of "
                "attn_k_b + attn_v_b");
  cmd->add_option("--format", args->format,
                  "gguf (a file), or hf (a directory: config.json + safetensors in the HF "
                  "names, shapes and dtypes; --type f32|f16|bf16|fp8, fp8 = V3's block-scaled "
                  "FP8 layout)");
  cmd->add_option("--tokenizer", args->tokenizer,
                  "gguf: embed the tokenizer (and chat template) of this HF directory; the "
                  "vocabulary size becomes the tokenizer's");
  cmd->add_option("-o,--output", args->output, "output file (gguf) or directory (hf)")->required();
  cmd->callback([run, args] {
    *run = [args] {
      const StatusOr<RandomModelSummary> summary = RunRandomModel(*args);
      if (!summary.ok()) return ReportError("dsinfer random-model", summary.status().message());
      std::printf("wrote %s: %lld tensors, %lld parameters, %llu bytes\n", args->output.c_str(),
                  static_cast<long long>(summary->tensors),
                  static_cast<long long>(summary->parameters),
                  static_cast<unsigned long long>(summary->file_bytes));
      return 0;
    };
  });
}

}  // namespace dsinfer
