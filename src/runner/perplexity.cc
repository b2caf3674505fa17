#include "runner/perplexity.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "model/forward_batch.h"

namespace dsinfer::runner {
namespace {

// -log softmax(row)[target] in double, around the row's maximum.
double NegativeLogProb(std::span<const float> row, int32_t target) {
  const float max = *std::max_element(row.begin(), row.end());
  double sum = 0;
  for (const float v : row) sum += std::exp(static_cast<double>(v) - max);
  return std::log(sum) - (static_cast<double>(row[static_cast<size_t>(target)]) - max);
}

}  // namespace

Status CheckPerplexityContext(const ModelConfig& config, int64_t n_ctx) {
  if (n_ctx < kMinPerplexityContext) {
    return InvalidArgumentError(fmt::format("a context of {} tokens scores none; use at least {}",
                                            n_ctx, kMinPerplexityContext));
  }
  const int64_t context_length = config.max_position_embeddings;
  if (context_length > 0 && n_ctx > context_length) {
    return InvalidArgumentError(
        fmt::format("a context of {} tokens is longer than the model's context length {}", n_ctx,
                    context_length));
  }
  return Status::Ok();
}

StatusOr<PerplexityResult> Perplexity(const Model& model, KvStorage& kv,
                                      std::span<const int32_t> tokens,
                                      const PerplexityOptions& options, ThreadPool* pool) {
  const int64_t n_ctx = options.n_ctx;
  DSI_RETURN_IF_ERROR(CheckPerplexityContext(model.config(), n_ctx));
  if (n_ctx > kv.n_blocks() * kv.block_size()) {
    return InvalidArgumentError(fmt::format("{} positions do not fit the KV storage of {}", n_ctx,
                                            kv.n_blocks() * kv.block_size()));
  }
  const auto n_tokens = static_cast<int64_t>(tokens.size());
  if (n_tokens < n_ctx) {
    return InvalidArgumentError(
        fmt::format("the text has {} tokens, fewer than one context of {}", n_tokens, n_ctx));
  }
  int64_t chunks = n_tokens / n_ctx;
  if (options.max_chunks > 0) chunks = std::min(chunks, options.max_chunks);

  const int64_t vocab = model.vocab_size();
  const int64_t first = n_ctx / 2;
  std::vector<int64_t> rows(static_cast<size_t>(n_ctx - 1 - first));
  std::iota(rows.begin(), rows.end(), first);
  std::vector<int32_t> block_table(static_cast<size_t>(kv.n_blocks()));
  std::iota(block_table.begin(), block_table.end(), 0);
  std::vector<float> logits(rows.size() * static_cast<size_t>(vocab));
  std::vector<int32_t> chunk(static_cast<size_t>(n_ctx));

  PerplexityResult result;
  result.chunks = chunks;
  double nll_squares = 0;
  for (int64_t c = 0; c < chunks; ++c) {
    std::copy_n(tokens.begin() + c * n_ctx, n_ctx, chunk.begin());
    if (options.bos_id.has_value()) chunk[0] = *options.bos_id;
    const SequenceSlice slice{
        .first_token = 0, .n_tokens = n_ctx, .n_past = 0, .block_table = block_table};
    DSI_RETURN_IF_ERROR(model.Forward(
        {.tokens = chunk, .sequences = {&slice, 1}, .logit_rows = rows}, kv, logits, pool));
    for (size_t r = 0; r < rows.size(); ++r) {
      // The original stream's token, not the BOS substitute (position 0 is never a target).
      const int32_t target = tokens[static_cast<size_t>(c * n_ctx + rows[r] + 1)];
      const double nll =
          NegativeLogProb(std::span<const float>(logits).subspan(r * static_cast<size_t>(vocab),
                                                                 static_cast<size_t>(vocab)),
                          target);
      result.nll_sum += nll;
      nll_squares += nll * nll;
    }
    result.scored_tokens += static_cast<int64_t>(rows.size());
    result.running_ppl.push_back(
        std::exp(result.nll_sum / static_cast<double>(result.scored_tokens)));
  }
  const auto n = static_cast<double>(result.scored_tokens);
  const double mean = result.nll_sum / n;
  result.ppl = std::exp(mean);
  // The standard error of the mean NLL, carried through exp (llama.cpp's "+/-").
  if (result.scored_tokens > 1) {
    const double variance = std::max(0.0, nll_squares / n - mean * mean);
    result.ppl_stderr = result.ppl * std::sqrt(variance / (n - 1));
  }
  return result;
}

}  // namespace dsinfer::runner
