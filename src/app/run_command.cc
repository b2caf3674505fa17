// `dsinfer run -m MODEL (-p TEXT | --prompt-ids 1,2,3) -n N [--temp T] [--seed S]
// [--threads N] [--logits-out FILE] [--print-ids]`: one generation with the KV cache.
// Text goes to stdout as it is generated (or, with --print-ids, one line of comma-separated
// ids, as for a model without a vocabulary); timings go to stderr. --logits-out writes the logits
// of every evaluated position as little-endian float32 rows [n_positions x vocab]: the prompt's
// positions, then each generated token but the last.
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "app/command_options.h"
#include "app/commands.h"
#include "model/load_model.h"
#include "runner/generate.h"
#include "tokenizer/load_tokenizer.h"
#include "tokenizer/streaming_detokenizer.h"

namespace dsinfer {
namespace {

struct RunArgs {
  std::string model;
  std::string prompt;
  std::string prompt_ids;
  int64_t n_predict = 16;
  float temperature = 0.0f;
  std::optional<int64_t> seed;
  int threads = 0;
  std::string logits_out;
  std::string kv_type = "f16";
  std::string hf_type = "q8_0";
  bool print_ids = false;
  bool ignore_eos = false;
};

StatusOr<std::vector<int32_t>> ParseIds(const std::string& text) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    try {
      size_t used = 0;
      const long long value = std::stoll(item, &used);
      if (used != item.size() || value < 0 || value > INT32_MAX) throw std::invalid_argument("");
      ids.push_back(static_cast<int32_t>(value));
    } catch (const std::exception&) {
      return InvalidArgumentError(fmt::format("--prompt-ids: '{}' is not a token id", item));
    }
    pos = end + 1;
  }
  if (ids.empty()) return InvalidArgumentError("--prompt-ids is empty");
  return ids;
}

int Run(const RunArgs& args) {
  constexpr const char* kCommand = "dsinfer run";
  if (args.prompt.empty() == args.prompt_ids.empty()) {
    return ReportError(kCommand, "give exactly one of -p/--prompt and --prompt-ids");
  }
  const StatusOr<DType> kv_type = TypeOption("--kv-type", args.kv_type);
  if (!kv_type.ok()) return ReportError(kCommand, kv_type.status().message());
  const StatusOr<TypeRequest> hf_type = HfTypeOption(args.hf_type);
  if (!hf_type.ok()) return ReportError(kCommand, hf_type.status().message());
  const int threads = ThreadCount(args.threads);
  ThreadPool pool(threads);
  StatusOr<Model> model = LoadModel(args.model, {.hf_type = *hf_type}, &pool);
  if (!model.ok()) return ReportError(kCommand, model.status().message());

  // The tokenizer is needed for text in or out; --prompt-ids --print-ids runs without one, and
  // ids in from a model without a vocabulary (random-model's files, an HF directory without
  // tokenizer.json) come out as ids.
  std::unique_ptr<tokenizer::Tokenizer> tok;
  bool print_ids = args.print_ids;
  if (!args.prompt.empty() || !print_ids) {
    StatusOr<tokenizer::Tokenizer> loaded = tokenizer::LoadTokenizer(args.model);
    if (loaded.ok()) {
      tok = std::make_unique<tokenizer::Tokenizer>(std::move(*loaded));
    } else if (args.prompt.empty() && (loaded.status().code() == StatusCode::kFailedPrecondition ||
                                       loaded.status().code() == StatusCode::kNotFound)) {
      fmt::print(stderr, "{}: {}; printing the generated ids\n", kCommand,
                 loaded.status().message());
      print_ids = true;
    } else {
      return ReportError(kCommand, loaded.status().message());
    }
  }
  std::vector<int32_t> prompt;
  if (!args.prompt.empty()) {
    StatusOr<std::vector<int32_t>> ids =
        tok->Encode(args.prompt, {.parse_special = true, .add_bos = tok->add_bos()});
    if (!ids.ok()) return ReportError(kCommand, ids.status().message());
    prompt = std::move(*ids);
  } else {
    StatusOr<std::vector<int32_t>> ids = ParseIds(args.prompt_ids);
    if (!ids.ok()) return ReportError(kCommand, ids.status().message());
    prompt = std::move(*ids);
  }

  StatusOr<KvStorage> kv = runner::KvStorageFor(
      model->config(), static_cast<int64_t>(prompt.size()) + args.n_predict, *kv_type);
  if (!kv.ok()) return ReportError(kCommand, kv.status().message());

  std::ofstream logits_file;
  if (!args.logits_out.empty()) {
    logits_file.open(args.logits_out, std::ios::binary | std::ios::trunc);
    if (!logits_file) {
      return ReportError(kCommand, fmt::format("cannot write {}", args.logits_out));
    }
  }
  runner::LogitsSink on_logits;
  if (logits_file.is_open()) {
    on_logits = [&](int64_t, std::span<const float> row) {
      logits_file.write(reinterpret_cast<const char*>(row.data()),
                        static_cast<std::streamsize>(row.size_bytes()));
    };
  }
  std::vector<int32_t> generated;
  std::unique_ptr<tokenizer::StreamingDetokenizer> detok;
  if (!print_ids) detok = std::make_unique<tokenizer::StreamingDetokenizer>(tok.get());
  const runner::TokenSink on_token = [&](int32_t token) {
    generated.push_back(token);
    if (detok != nullptr) {
      StatusOr<std::string> text = detok->Feed(token);
      if (text.ok()) {
        std::fwrite(text->data(), 1, text->size(), stdout);
        std::fflush(stdout);
      }
    }
    return true;
  };

  runner::GenerateOptions options;
  options.max_new_tokens = args.n_predict;
  options.sampling.temperature = args.temperature;
  options.sampling.seed = args.seed;
  if (!args.ignore_eos && tok != nullptr) options.stop_token_id = tok->eos_id();
  StatusOr<runner::GenerateStats> stats =
      runner::Generate(*model, *kv, prompt, options, on_logits, on_token, &pool);
  if (!stats.ok()) return ReportError(kCommand, stats.status().message());
  if (detok != nullptr) {
    const std::string rest = detok->Flush();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    std::fputc('\n', stdout);
  } else {
    std::string line;
    for (size_t i = 0; i < generated.size(); ++i) {
      if (i > 0) line += ',';
      line += std::to_string(generated[i]);
    }
    std::fputs((line + "\n").c_str(), stdout);
  }
  if (logits_file.is_open()) {
    logits_file.close();
    if (!logits_file)
      return ReportError(kCommand, fmt::format("writing {} failed", args.logits_out));
  }
  const int64_t decoded = std::max<int64_t>(0, stats->generated_tokens - 1);
  std::fprintf(stderr,
               "prompt %lld tokens in %.3f s (%.1f tok/s); generated %lld tokens, decode %.1f "
               "tok/s; %d threads\n",
               static_cast<long long>(stats->prompt_tokens), stats->prefill_seconds,
               static_cast<double>(stats->prompt_tokens) / std::max(stats->prefill_seconds, 1e-9),
               static_cast<long long>(stats->generated_tokens),
               static_cast<double>(decoded) / std::max(stats->decode_seconds, 1e-9), threads);
  return 0;
}

}  // namespace

void RegisterRunCommand(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "generate text from a prompt with a model");
  cmd->add_option("-m,--model", args->model, "GGUF file or HF checkpoint directory")->required();
  cmd->add_option("-p,--prompt", args->prompt, "prompt text (special tokens are matched)");
  cmd->add_option("--prompt-ids", args->prompt_ids, "prompt as comma-separated token ids");
  cmd->add_option("-n,--n-predict", args->n_predict, "tokens to generate")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--temp", args->temperature, "sampling temperature (0: greedy)");
  cmd->add_option("--seed", args->seed, "sampling seed");
  cmd->add_option("-t,--threads", args->threads, "threads (default: all cores)");
  cmd->add_option("--logits-out", args->logits_out,
                  "write float32 logits of every evaluated position to FILE");
  cmd->add_option("--kv-type", args->kv_type, "KV cache element type: f16 (default) or f32");
  cmd->add_option("--hf-type", args->hf_type, HfTypeHelp());
  cmd->add_flag("--print-ids", args->print_ids, "print the generated ids, not text");
  cmd->add_flag("--ignore-eos", args->ignore_eos, "keep generating after end-of-sequence");
  cmd->callback([run, args] { *run = [args] { return Run(*args); }; });
}

}  // namespace dsinfer
