// `dsinfer quantize IN.gguf OUT.gguf TYPE [--pure] [--keep TYPE:PATTERN ...] [--threads N]`:
// rewrites a GGUF with its weight matrices in TYPE (model/quantize_model.h), printing one
// line per tensor and the totals. Type choice per tensor: model/tensor_type_rules.h.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "app/command_options.h"
#include "app/commands.h"
#include "formats/file_report.h"
#include "model/quantize_model.h"
#include "model/tensor_type_rules.h"
#include "platform/thread_pool.h"

namespace dsinfer {

namespace {

struct QuantizeArgs {
  std::string input;
  std::string output;
  std::string type;
  bool pure = false;
  std::vector<std::string> keep;
  int threads = 0;  // 0: every core
};

std::string ShapeText(std::span<const int64_t> ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += fmt::format("{}{}", i == 0 ? "" : ", ", ne[i]);
  return s + "]";
}

void PrintTensor(const QuantizedTensor& t) {
  const int width = static_cast<int>(fmt::format("{}", t.count).size());
  const std::string note = DescribeTypeChoice(t.choice, t.ne[0]);
  const std::string types = t.converted
                                ? fmt::format("{} -> {}", DTypeName(t.from), DTypeName(t.to))
                                : fmt::format("{} (unchanged)", DTypeName(t.from));
  const std::string sizes =
      t.converted ? fmt::format("{} -> {}", HumanBytes(t.bytes_in), HumanBytes(t.bytes_out))
                  : HumanBytes(t.bytes_out);
  std::printf("[%*zu/%zu] %-36s %-18s %-20s %s%s\n", width, t.index + 1, t.count,
              std::string(t.name).c_str(), ShapeText(t.ne).c_str(), types.c_str(), sizes.c_str(),
              note.c_str());
  std::fflush(stdout);
}

int RunQuantize(const QuantizeArgs& args) {
  constexpr const char* kCommand = "dsinfer quantize";
  StatusOr<TypeRequest> type = ParseTypeRequest(args.type);
  if (!type.ok()) return ReportError(kCommand, type.status().message());
  StatusOr<std::vector<TensorTypeRule>> rules = ParseTensorTypeRules(args.keep);
  if (!rules.ok()) return ReportError(kCommand, rules.status().message());
  if (args.threads < 0)
    return ReportError(kCommand, "--threads must not be negative (0: every core)");
  const int threads = ThreadCount(args.threads);
  ThreadPool pool(threads);
  const QuantizeOptions options{.types = {.requested = type->type,
                                          .mixture = type->mixture,
                                          .rules = std::move(*rules),
                                          .pure = args.pure},
                                .on_tensor = PrintTensor};
  const auto start = std::chrono::steady_clock::now();
  const StatusOr<QuantizeSummary> summary = QuantizeGguf(args.input, args.output, options, &pool);
  if (!summary.ok()) return ReportError(kCommand, summary.status().message());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double bits_per_weight = summary->parameters == 0
                                     ? 0.0
                                     : static_cast<double>(summary->tensor_bytes_out) * 8.0 /
                                           static_cast<double>(summary->parameters);
  std::printf(
      "wrote %s in %s: %lld tensors (%lld converted, %lld unchanged, %lld in fallback types), "
      "%s -> %s of tensor data, %.2f bits per weight, %s file, %.1f s on %d threads\n",
      args.output.c_str(), type->Name().c_str(), static_cast<long long>(summary->tensors),
      static_cast<long long>(summary->converted), static_cast<long long>(summary->copied),
      static_cast<long long>(summary->fell_back), HumanBytes(summary->tensor_bytes_in).c_str(),
      HumanBytes(summary->tensor_bytes_out).c_str(), bits_per_weight,
      HumanBytes(summary->file_bytes).c_str(), seconds, threads);
  return 0;
}

}  // namespace

void RegisterQuantizeCommand(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "quantize",
      "Rewrite a GGUF with its weight matrices in another type (norms, biases and the router "
      "stay as they are; rows a type cannot hold fall back as llama.cpp does)");
  cmd->add_option("input", args->input, "GGUF file to read")->required();
  cmd->add_option("output", args->output, "GGUF file to write (not the input)")->required();
  cmd->add_option("type", args->type,
                  "type of the weight matrices: " + TypeRequestNames() +
                      " (llama.cpp's per-tensor mixtures, as llama-quantize makes them)")
      ->required();
  cmd->add_flag("--pure", args->pure,
                "no fallback types: a tensor whose rows TYPE cannot hold is an error (without "
                "--pure it falls back as llama.cpp does, e.g. q4_K -> q5_0)");
  cmd->add_option("--keep", args->keep,
                  "TYPE:PATTERN, repeatable: tensors whose name contains PATTERN get TYPE "
                  "(first match wins; ^ and $ anchor), e.g. --keep q8_0:attn --keep "
                  "f16:token_embd");
  cmd->add_option("--threads", args->threads, "worker threads (default: every core)");
  cmd->callback([run, args] { *run = [args] { return RunQuantize(*args); }; });
}

}  // namespace dsinfer
