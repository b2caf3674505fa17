// `dsinfer convert HF_DIR -o OUT.gguf [--type T] [--keep TYPE:PATTERN ...] [--threads N]
// [--name NAME] [--legacy-kv-b]`: an HF checkpoint (config.json, safetensors in F32, F16,
// BF16 or V3's block-scaled FP8, tokenizer.json) written as a GGUF llama.cpp loads
// (model/hf_to_gguf.h), printing one line per tensor and the totals.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/command_options.h"
#include "app/commands.h"
#include "formats/file_report.h"
#include "formats/gguf_names.h"
#include "formats/hf_config.h"
#include "formats/safetensors_model.h"
#include "model/hf_to_gguf.h"
#include "model/model_config.h"
#include "model/tensor_type_rules.h"
#include "platform/thread_pool.h"
#include "tokenizer/tokenizer_gguf_metadata.h"

namespace dsinfer {

namespace {

struct ConvertArgs {
  std::string input;
  std::string output;
  std::string type = "bf16";
  std::vector<std::string> keep;
  int threads = 0;  // 0: every core
  std::string name;
  bool legacy_kv_b = false;
};

std::string ShapeText(std::span<const int64_t> ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += fmt::format("{}{}", i == 0 ? "" : ", ", ne[i]);
  return s + "]";
}

void PrintTensor(const HfConvertedTensor& t) {
  const int width = static_cast<int>(fmt::format("{}", t.count).size());
  const std::string note = DescribeTypeChoice(t.choice, t.ne[0]);
  const std::string from = t.bytes_in == 0 ? "computed" : std::string(DTypeName(t.from));
  const std::string types = fmt::format("{} -> {}", from, DTypeName(t.choice.type));
  const std::string sizes =
      fmt::format("{} -> {}", HumanBytes(t.bytes_in), HumanBytes(t.bytes_out));
  std::printf("[%*zu/%zu] %-36s %-18s %-16s %-22s%s\n", width, t.index + 1, t.count,
              std::string(t.name).c_str(), ShapeText(t.ne).c_str(), types.c_str(), sizes.c_str(),
              note.c_str());
  std::fflush(stdout);
}

// The checkpoint directory's own name ("DeepSeek-V3" for /models/DeepSeek-V3/).
std::string DirectoryName(const std::string& path) {
  std::filesystem::path p = std::filesystem::absolute(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

// The preset name in tokenizer metadata.
std::string PreOf(const std::vector<GgufKeyValue>& metadata) {
  for (const GgufKeyValue& kv : metadata) {
    if (kv.key == gguf::kKeyTokenizerPre) return std::get<std::string>(kv.value.storage());
  }
  return "?";
}

// quantization_config's FP8 block (square, as V3's [128, 128]); 128 when there is none.
StatusOr<int64_t> Fp8BlockOf(const HfConfig& hf) {
  if (!hf.quantization_config || hf.quantization_config->weight_block_size.empty()) return 128;
  const std::vector<int64_t>& block = hf.quantization_config->weight_block_size;
  if (block.size() != 2 || block[0] != block[1]) {
    return UnimplementedError(fmt::format(
        "quantization_config.weight_block_size [{}] is not square; only square FP8 blocks are "
        "read",
        fmt::join(block, ", ")));
  }
  return block[0];
}

int RunConvert(const ConvertArgs& args) {
  constexpr const char* kCommand = "dsinfer convert";
  const StatusOr<TypeRequest> type = ParseTypeRequest(args.type);
  if (!type.ok()) return ReportError(kCommand, fmt::format("--type {}", type.status().message()));
  StatusOr<std::vector<TensorTypeRule>> rules = ParseTensorTypeRules(args.keep);
  if (!rules.ok()) return ReportError(kCommand, rules.status().message());
  if (args.threads < 0) return ReportError(kCommand, "--threads must be at least 1");

  const StatusOr<HfConfig> hf = LoadHfConfig(args.input);
  if (!hf.ok()) return ReportError(kCommand, hf.status().message());
  const StatusOr<ModelConfig> config = ModelConfig::FromHfConfig(*hf);
  if (!config.ok()) return ReportError(kCommand, config.status().message());
  const StatusOr<int64_t> block = Fp8BlockOf(*hf);
  if (!block.ok()) return ReportError(kCommand, block.status().message());
  const StatusOr<SafetensorsModel> model = SafetensorsModel::Open(args.input);
  if (!model.ok()) return ReportError(kCommand, model.status().message());

  HfConvertOptions options{
      .weights = {.dtype = type->type,
                  .mixture = type->mixture,
                  .keep = std::move(*rules),
                  .layout = {.kv_b_form =
                                 args.legacy_kv_b ? MlaKvBForm::kFused : MlaKvBForm::kSplit},
                  .fp8_block_size = *block},
      .name = args.name.empty() ? DirectoryName(args.input) : args.name,
      .on_tensor = PrintTensor};
  StatusOr<std::optional<std::vector<GgufKeyValue>>> tokenizer =
      tokenizer::TokenizerGgufMetadataFromDir(args.input, config->vocab_size);
  if (!tokenizer.ok()) return ReportError(kCommand, tokenizer.status().message());
  if (tokenizer->has_value()) {
    options.metadata = std::move(**tokenizer);
    std::printf("tokenizer: tokenizer.json with %lld ids, pre-tokenizer %s\n",
                static_cast<long long>(config->vocab_size), PreOf(options.metadata).c_str());
  } else {
    options.metadata = tokenizer::NoVocabularyGgufMetadata();
    std::printf("tokenizer: none (no tokenizer.json): the GGUF carries no vocabulary\n");
  }

  const int threads = ThreadCount(args.threads);
  ThreadPool pool(threads);
  const auto start = std::chrono::steady_clock::now();
  const StatusOr<HfConvertSummary> summary =
      ConvertHfToGguf(*model, *config, options, args.output, &pool);
  if (!summary.ok()) return ReportError(kCommand, summary.status().message());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double bits_per_weight = summary->parameters == 0
                                     ? 0.0
                                     : static_cast<double>(summary->tensor_bytes_out) * 8.0 /
                                           static_cast<double>(summary->parameters);
  const double mb_per_s =
      seconds > 0 ? static_cast<double>(summary->tensor_bytes_in) / 1e6 / seconds : 0.0;
  std::printf(
      "wrote %s in %s: %lld tensors (%lld in fallback types), %s -> %s of tensor data, %.2f "
      "bits per weight, %s file, %.1f s on %d threads (%.0f MB/s read)\n",
      args.output.c_str(), type->Name().c_str(), static_cast<long long>(summary->tensors),
      static_cast<long long>(summary->fell_back), HumanBytes(summary->tensor_bytes_in).c_str(),
      HumanBytes(summary->tensor_bytes_out).c_str(), bits_per_weight,
      HumanBytes(summary->file_bytes).c_str(), seconds, threads, mb_per_s);
  return 0;
}

}  // namespace

void RegisterConvertCommand(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand(
      "convert",
      "Write an HF checkpoint (config.json + safetensors in F32/F16/BF16/FP8, tokenizer.json) "
      "as a GGUF file llama.cpp loads, with the weight matrices in a chosen type");
  cmd->add_option("input", args->input, "HF checkpoint directory")->required();
  cmd->add_option("-o,--output", args->output, "GGUF file to write")->required();
  cmd->add_option("--type", args->type,
                  "type of the weight matrices (default bf16): " + TypeRequestNames() +
                      " (norms, biases and the router stay f32; rows a type cannot hold fall "
                      "back as llama.cpp does)");
  cmd->add_option("--keep", args->keep,
                  "TYPE:PATTERN, repeatable: tensors whose GGUF name contains PATTERN get TYPE "
                  "(first match wins; ^ and $ anchor), e.g. --type q4_k --keep q8_0:attn");
  cmd->add_option("--threads", args->threads, "worker threads (default: every core)");
  cmd->add_option("--name", args->name, "general.name (default: the directory's name)");
  cmd->add_flag("--legacy-kv-b", args->legacy_kv_b,
                "MLA: one attn_kv_b per layer (pre-2025 llama.cpp files) instead of attn_k_b + "
                "attn_v_b");
  cmd->callback([run, args] { *run = [args] { return RunConvert(*args); }; });
}

}  // namespace dsinfer
