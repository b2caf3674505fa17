// Perplexity of a model over a token stream, by llama.cpp's protocol (tools/perplexity), so
// that the two engines' figures on the same GGUF and text can be compared directly:
//
//   * the stream is cut into floor(n / n_ctx) chunks of n_ctx tokens (the rest is dropped);
//   * each chunk is evaluated on its own, from an empty KV cache, with its first token
//     replaced by BOS when the tokenizer adds one;
//   * only the second half is scored: the logits at positions first = n_ctx / 2 .. n_ctx - 2
//     predict the tokens at first + 1 .. n_ctx - 1, so every scored token has at least
//     n_ctx / 2 tokens of context;
//   * PPL = exp(sum of -log p(token) / scored tokens), with the standard error of that
//     estimate from the per-token NLL variance, as llama.cpp prints it.
//
// NLLs are computed in double from the float logits (log-sum-exp around the row's maximum).
// One difference: llama.cpp wants at least 2 * n_ctx tokens; one chunk is enough here.
#ifndef DSINFER_RUNNER_PERPLEXITY_H_
#define DSINFER_RUNNER_PERPLEXITY_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "model/kv_storage.h"
#include "model/model.h"
#include "platform/thread_pool.h"

namespace dsinfer::runner {

struct PerplexityOptions {
  int64_t n_ctx = 512;
  std::optional<int32_t> bos_id;  // replaces each chunk's first token when set
  int64_t max_chunks = 0;         // > 0: evaluate at most this many chunks
};

struct PerplexityResult {
  int64_t chunks = 0;
  int64_t scored_tokens = 0;
  double nll_sum = 0;  // natural log
  double ppl = 0;
  double ppl_stderr = 0;
  std::vector<double> running_ppl;  // after each chunk, as llama.cpp's [1]x,[2]y,... line
};

// The smallest n_ctx with a scored token (first = n_ctx / 2 < n_ctx - 1).
inline constexpr int64_t kMinPerplexityContext = 4;

// InvalidArgument when n_ctx is below kMinPerplexityContext or above the model's context
// length: callers check it before they size a KV cache for n_ctx.
Status CheckPerplexityContext(const ModelConfig& config, int64_t n_ctx);

// `kv` must hold n_ctx positions (blocks 0, 1, ... in order). InvalidArgument when n_ctx is
// below kMinPerplexityContext or above the model's context length, or `tokens` has fewer
// than n_ctx tokens.
StatusOr<PerplexityResult> Perplexity(const Model& model, KvStorage& kv,
                                      std::span<const int32_t> tokens,
                                      const PerplexityOptions& options, ThreadPool* pool);

}  // namespace dsinfer::runner

#endif  // DSINFER_RUNNER_PERPLEXITY_H_
