// Sampler: the pipeline and its two sampling paths.
#include "sampling/sampler.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/elementwise.h"
#include "sampling/logits_processors.h"

namespace dsinfer::sampling {
namespace {

// Weights are summed per block so that the draw walks block sums first, then one block.
constexpr size_t kSumBlock = 4096;
// Top-p without top-k first ranks this many tokens, then 8x more while they fall short.
constexpr size_t kFirstTopPCandidates = 64;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

Status NoFiniteLogit() {
  return InvalidArgumentError("every logit is -inf or NaN: nothing can be sampled");
}

}  // namespace

Sampler::Sampler(int32_t vocab_size)
    : penalized_(static_cast<size_t>(vocab_size)),
      counts_(static_cast<size_t>(vocab_size), 0),
      weights_(static_cast<size_t>(vocab_size)),
      block_sums_((static_cast<size_t>(vocab_size) + kSumBlock - 1) / kSumBlock) {
  DSI_CHECK(vocab_size > 0);
}

Status Sampler::Sample(std::span<const float> logits, const TokenHistory& history,
                       const SamplingParams& params, RequestRng* rng, SampledToken* out) {
  if (logits.size() != weights_.size()) {
    return InvalidArgumentError(fmt::format("logits have {} entries for a vocabulary of {}",
                                            logits.size(), weights_.size()));
  }
  std::span<const float> processed = logits;
  if (params.HasPenalties()) {
    std::memcpy(penalized_.data(), logits.data(), logits.size_bytes());
    DSI_RETURN_IF_ERROR(ApplyPenalties(penalized_, history, params, counts_));
    processed = penalized_;
  }

  int64_t token = -1;
  if (params.IsGreedy()) {
    token = ArgMax(processed);
  } else {
    const double u = rng->NextUniform();
    const bool top_k = params.top_k > 0 && static_cast<size_t>(params.top_k) < logits.size();
    token = top_k ? SampleTopK(processed, params, u) : SampleFullVocab(processed, params, u);
  }
  if (token < 0) return NoFiniteLogit();

  out->token = static_cast<int32_t>(token);
  out->logprob = 0.0f;
  out->top_logprobs.clear();
  if (params.logprobs) FillLogprobs(logits, params.top_logprobs, out);
  return Status::Ok();
}

int64_t Sampler::SampleTopK(std::span<const float> logits, const SamplingParams& params, double u) {
  SelectTop(logits, static_cast<size_t>(params.top_k), kNegInf, &candidates_);
  if (candidates_.empty() || !(logits[candidates_[0]] > kNegInf)) return -1;
  candidate_weights_.resize(candidates_.size());
  TemperatureWeights(logits, candidates_, params.temperature, candidate_weights_);

  double total = 0.0;
  for (float w : candidate_weights_) total += w;
  size_t keep = TopPKeep(candidate_weights_, total, params.top_p).value_or(candidates_.size());
  keep = std::min(keep, MinPKeep(candidate_weights_, params.min_p));

  const std::span<const float> kept(candidate_weights_.data(), keep);
  double kept_total = 0.0;
  for (float w : kept) kept_total += w;
  const int64_t j = DrawFromWeights(kept, u * kept_total);
  return j < 0 ? -1 : candidates_[j];
}

int64_t Sampler::SampleFullVocab(std::span<const float> logits, const SamplingParams& params,
                                 double u) {
  const kernels::ElementwiseTable& table = kernels::Elementwise();
  const auto n = static_cast<int64_t>(logits.size());
  float* w = weights_.data();
  table.scale(logits.data(), 1.0f / params.temperature, w, n);
  const float max = table.row_max(w, n);
  if (!(max > kNegInf)) return -1;
  double total = 0.0;
  for (size_t b = 0; b < block_sums_.size(); ++b) {
    const size_t start = b * kSumBlock;
    const auto len = static_cast<int64_t>(std::min(kSumBlock, logits.size() - start));
    block_sums_[b] = table.exp_sub_sum(w + start, max, w + start, len);
    total += block_sums_[b];
  }
  const std::span<const float> weights(weights_);
  // The most likely token has weight e^0 = 1, so min-p's threshold is min_p itself; the
  // smallest positive float keeps underflowed (zero-probability) tokens out of the ranking.
  const float floor = std::max(params.min_p, std::numeric_limits<float>::denorm_min());

  if (params.top_p < 1.0f) {
    for (size_t want = kFirstTopPCandidates;; want *= 8) {
      SelectTop(weights, want, floor, &candidates_);
      candidate_weights_.resize(candidates_.size());
      for (size_t j = 0; j < candidates_.size(); ++j) candidate_weights_[j] = w[candidates_[j]];
      const std::optional<size_t> keep = TopPKeep(candidate_weights_, total, params.top_p);
      // Fewer candidates than asked means every token above min-p's floor is here.
      if (keep.has_value() || candidates_.size() < want || want >= logits.size()) {
        const std::span<const float> kept(candidate_weights_.data(),
                                          keep.value_or(candidates_.size()));
        double kept_total = 0.0;
        for (float x : kept) kept_total += x;
        const int64_t j = DrawFromWeights(kept, u * kept_total);
        return j < 0 ? -1 : candidates_[j];
      }
    }
  }
  if (params.min_p > 0.0f) {
    // Min-p alone keeps few tokens on a peaked row: rank just those (a block-skipping scan),
    // then draw.
    SelectTop(weights, weights.size(), floor, &candidates_);
    candidate_weights_.resize(candidates_.size());
    double kept_total = 0.0;
    for (size_t j = 0; j < candidates_.size(); ++j) {
      candidate_weights_[j] = w[candidates_[j]];
      kept_total += candidate_weights_[j];
    }
    const int64_t j = DrawFromWeights(candidate_weights_, u * kept_total);
    return j < 0 ? -1 : candidates_[j];
  }
  // Plain draw over the whole vocabulary: find the block, then the token within it.
  double target = u * total;
  size_t b = 0;
  while (b + 1 < block_sums_.size() && target >= block_sums_[b]) target -= block_sums_[b++];
  const size_t start = b * kSumBlock;
  const size_t len = std::min(kSumBlock, logits.size() - start);
  int64_t j = DrawFromWeights(weights.subspan(start, len), target);
  if (j < 0) {
    // The block's weights summed to zero after rounding: take the last positive one overall.
    j = DrawFromWeights(weights, std::numeric_limits<double>::infinity());
    return j;
  }
  return static_cast<int64_t>(start) + j;
}

void Sampler::FillLogprobs(std::span<const float> raw, int32_t top_n, SampledToken* out) {
  const kernels::ElementwiseTable& table = kernels::Elementwise();
  const auto n = static_cast<int64_t>(raw.size());
  const float max = table.row_max(raw.data(), n);
  const double sum = table.exp_sub_sum(raw.data(), max, weights_.data(), n);
  const auto log_normaliser = static_cast<float>(static_cast<double>(max) + std::log(sum));
  out->logprob = raw[out->token] - log_normaliser;
  if (top_n <= 0) return;
  SelectTop(raw, static_cast<size_t>(top_n), kNegInf, &candidates_);
  for (int32_t id : candidates_) out->top_logprobs.push_back({id, raw[id] - log_normaliser});
}

}  // namespace dsinfer::sampling
