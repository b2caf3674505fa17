// `dsinfer perplexity -m MODEL -f FILE [-c 512] [--chunks N] [--threads N] [--json]`: the
// perplexity of a model over a text file by llama.cpp's protocol (runner/perplexity.h), so
// that `llama-perplexity -m MODEL -f FILE -c N` on the same GGUF gives the same figure.
//
// The text is tokenized whole, with BOS first when the tokenizer adds one, and special-token
// text in it is plain text (as llama.cpp's tool tokenizes: add_special, not parse_special).
// --shuffle-tokens SEED permutes the tokens before chunking: a control that destroys the text's
// structure (a sound model's perplexity must then rise far above the text's).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/command_options.h"
#include "app/commands.h"
#include "base/clock.h"
#include "model/load_model.h"
#include "platform/read_file.h"
#include "runner/generate.h"
#include "runner/perplexity.h"
#include "tokenizer/load_tokenizer.h"

namespace dsinfer {
namespace {

struct PerplexityArgs {
  std::string model;
  std::string file;
  int64_t n_ctx = 512;
  int64_t chunks = 0;
  int threads = 0;
  std::string kv_type = "f16";
  std::string hf_type = "q8_0";
  std::optional<uint32_t> shuffle_seed;
  bool json = false;
};

int Perplexity(const PerplexityArgs& args) {
  constexpr const char* kCommand = "dsinfer perplexity";
  const StatusOr<DType> kv_type = TypeOption("--kv-type", args.kv_type);
  if (!kv_type.ok()) return ReportError(kCommand, kv_type.status().message());
  const StatusOr<TypeRequest> hf_type = HfTypeOption(args.hf_type);
  if (!hf_type.ok()) return ReportError(kCommand, hf_type.status().message());
  // 1 GiB of text is far beyond any evaluation set; the cap keeps a wrong path harmless.
  StatusOr<std::string> text = ReadFileToString(args.file, size_t{1} << 30);
  if (!text.ok()) return ReportError(kCommand, text.status().message());

  const int threads = ThreadCount(args.threads);
  ThreadPool pool(threads);
  StatusOr<Model> model = LoadModel(args.model, {.hf_type = *hf_type}, &pool);
  if (!model.ok()) return ReportError(kCommand, model.status().message());
  StatusOr<tokenizer::Tokenizer> tok = tokenizer::LoadTokenizer(args.model);
  if (!tok.ok()) return ReportError(kCommand, tok.status().message());
  StatusOr<std::vector<int32_t>> tokens =
      tok->Encode(*text, {.parse_special = false, .add_bos = tok->add_bos()});
  if (!tokens.ok()) return ReportError(kCommand, tokens.status().message());
  if (args.shuffle_seed.has_value()) {
    std::mt19937 rng(*args.shuffle_seed);
    std::shuffle(tokens->begin(), tokens->end(), rng);
  }

  if (Status s = runner::CheckPerplexityContext(model->config(), args.n_ctx); !s.ok()) {
    return ReportError(kCommand, s.message());
  }
  StatusOr<KvStorage> kv = runner::KvStorageFor(model->config(), args.n_ctx, *kv_type);
  if (!kv.ok()) return ReportError(kCommand, kv.status().message());
  runner::PerplexityOptions options{.n_ctx = args.n_ctx, .max_chunks = args.chunks};
  if (tok->add_bos()) options.bos_id = tok->bos_id();
  const Stopwatch clock;
  StatusOr<runner::PerplexityResult> r = runner::Perplexity(*model, *kv, *tokens, options, &pool);
  if (!r.ok()) return ReportError(kCommand, r.status().message());
  const double seconds = clock.ElapsedSeconds();

  if (args.json) {
    nlohmann::ordered_json j;
    j["model"] = args.model;
    j["file"] = args.file;
    j["n_ctx"] = args.n_ctx;
    j["tokens"] = tokens->size();
    j["chunks"] = r->chunks;
    j["scored_tokens"] = r->scored_tokens;
    j["nll_sum"] = r->nll_sum;
    j["ppl"] = r->ppl;
    j["ppl_stderr"] = r->ppl_stderr;
    j["running_ppl"] = r->running_ppl;
    j["seconds"] = seconds;
    std::puts(j.dump(2).c_str());
    return 0;
  }
  std::printf("perplexity: %zu tokens, %lld chunks of %lld, %lld tokens scored, %.2f s\n",
              tokens->size(), static_cast<long long>(r->chunks), static_cast<long long>(args.n_ctx),
              static_cast<long long>(r->scored_tokens), seconds);
  for (size_t i = 0; i < r->running_ppl.size(); ++i) {
    std::printf("%s[%zu]%.4f", i == 0 ? "" : ",", i + 1, r->running_ppl[i]);
  }
  std::printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", r->ppl, r->ppl_stderr);
  return 0;
}

}  // namespace

void RegisterPerplexityCommand(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<PerplexityArgs>();
  CLI::App* cmd = app.add_subcommand(
      "perplexity", "perplexity of a model over a text file (llama.cpp's protocol)");
  cmd->add_option("-m,--model", args->model, "GGUF file or HF checkpoint directory")->required();
  cmd->add_option("-f,--file", args->file, "text file to score")->required();
  cmd->add_option("-c,--ctx-size", args->n_ctx, "tokens per chunk; the second half is scored")
      ->check(CLI::Range(runner::kMinPerplexityContext, int64_t{1} << 20));
  cmd->add_option("--chunks", args->chunks, "evaluate at most N chunks (default: all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-t,--threads", args->threads, "threads (default: all cores)");
  cmd->add_option("--kv-type", args->kv_type, "KV cache element type: f16 (default) or f32");
  cmd->add_option("--hf-type", args->hf_type, HfTypeHelp());
  cmd->add_option("--shuffle-tokens", args->shuffle_seed,
                  "permute the tokens with this seed before chunking (a control)");
  cmd->add_flag("--json", args->json, "print the result as JSON");
  cmd->callback([run, args] { *run = [args] { return Perplexity(*args); }; });
}

}  // namespace dsinfer
