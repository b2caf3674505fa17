// Sampler: picks one token from one row of logits, as vLLM's sampler does for one sequence.
//
// Pipeline (vLLM / HF order): penalties -> temperature -> top-k -> top-p -> min-p -> draw.
// Temperature below kGreedyTemperature is greedy: the argmax after penalties, ties to the
// lowest id, no random number drawn. Otherwise exactly one RequestRng::NextUniform() per
// token, so a seeded request reproduces whatever else is in the batch.
//
// Logprobs: vLLM's default (logprobs_mode "raw_logprobs") and OpenAI's: log_softmax of the raw
// logits, before penalties, temperature and truncation. They describe the model, not the
// processed distribution the token was drawn from (which may give it probability 1).
//
// Cost for a vocabulary V: the input is never written; with penalties one copy of the row
// (V floats) plus O(history). With top-k: one block-skipping scan (logits_processors.h) and
// k exponentials. Without top-k: V exponentials (kernels' vectorised exp); top-p then ranks
// only the 64 most likely tokens, and 8x more each time those do not reach top_p (a flat
// distribution ends in a full sort, as vLLM always does); min-p alone ranks only the tokens
// above its threshold. Logprobs add V exponentials. Logits are finite or -inf (a masked
// token); a row without a finite logit is an error.
// Scratch (about 4V floats) is allocated at construction and reused: no allocation per token
// once the vectors have grown.
//
// Numerics: weights e^((l - max) / T) in float, cumulative sums in double.
//
// Thread safety: one Sampler per thread (its scratch is mutable); RequestRng per request.
#ifndef DSINFER_SAMPLING_SAMPLER_H_
#define DSINFER_SAMPLING_SAMPLER_H_

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "sampling/penalties.h"
#include "sampling/request_rng.h"
#include "sampling/sampling_params.h"

namespace dsinfer::sampling {

struct TokenLogprob {
  int32_t token = -1;
  float logprob = 0.0f;
};

struct SampledToken {
  int32_t token = -1;
  float logprob = 0.0f;                    // raw log_softmax of `token`; when params.logprobs
  std::vector<TokenLogprob> top_logprobs;  // params.top_logprobs most likely, best first
};

class Sampler {
 public:
  explicit Sampler(int32_t vocab_size);

  // Fills *out (reusing its vector) for logits of vocab_size() entries. `params` has passed
  // Validate(). InvalidArgument for a wrong logits size, a history id outside the vocabulary,
  // or logits that are all -inf or NaN.
  Status Sample(std::span<const float> logits, const TokenHistory& history,
                const SamplingParams& params, RequestRng* rng, SampledToken* out);

  int32_t vocab_size() const { return static_cast<int32_t>(weights_.size()); }

 private:
  // Top-k then top-p and min-p over the k ranked candidates.
  int64_t SampleTopK(std::span<const float> logits, const SamplingParams& params, double u);
  // Full-vocabulary softmax, then top-p (incremental ranking) and min-p, or a direct draw.
  int64_t SampleFullVocab(std::span<const float> logits, const SamplingParams& params, double u);
  void FillLogprobs(std::span<const float> raw, int32_t top_n, SampledToken* out);

  std::vector<float> penalized_;          // [V] the row after penalties
  std::vector<int32_t> counts_;           // [V] ApplyPenalties' counters, zero between calls
  std::vector<float> weights_;            // [V] e^(l/T - max), then log_softmax scratch
  std::vector<double> block_sums_;        // [V / kSumBlock] sums of weights_ per block
  std::vector<int32_t> candidates_;       // ranked token ids
  std::vector<float> candidate_weights_;  // their weights
};

}  // namespace dsinfer::sampling

#endif  // DSINFER_SAMPLING_SAMPLER_H_
