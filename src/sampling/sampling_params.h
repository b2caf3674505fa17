// SamplingParams: how one request picks its tokens and when it stops, as the OpenAI API (and
// vLLM's extensions top_k, min_p, repetition_penalty, stop_token_ids, ignore_eos) define it.
//
// Semantics (the processors apply in this order, as vLLM and HF transformers do):
//   repetition_penalty  over prompt + generated tokens, each distinct token once: a positive
//                       logit is divided by it, a negative one multiplied (HF / vLLM)
//   frequency_penalty   logit -= frequency_penalty * (times the token was generated)  (OpenAI)
//   presence_penalty    logit -= presence_penalty if the token was generated at all    (OpenAI)
//   temperature         logits / temperature; below kGreedyTemperature the argmax is taken
//   top_k               keep the k most likely tokens (0 or -1: all)
//   top_p               keep the smallest most-likely prefix whose probability reaches top_p
//   min_p               keep tokens with probability >= min_p * (the most likely's probability)
// Stop criteria are StopChecker's (stop_checker.h).
//
// Thread safety: a plain value.
#ifndef DSINFER_SAMPLING_SAMPLING_PARAMS_H_
#define DSINFER_SAMPLING_SAMPLING_PARAMS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace dsinfer::sampling {

// vLLM's _SAMPLING_EPS: smaller temperatures would overflow exp(logit / T); they mean greedy.
inline constexpr float kGreedyTemperature = 1e-5f;
// OpenAI's limit on top_logprobs.
inline constexpr int32_t kMaxTopLogprobs = 20;
// OpenAI allows 4 stop strings; vLLM any number. We take vLLM clients' lists up to this.
inline constexpr size_t kMaxStopStrings = 16;

struct SamplingParams {
  float temperature = 1.0f;           // [0, 2]; 0 = greedy (ties -> lowest id)
  int32_t top_k = 0;                  // -1, 0 (all tokens) or >= 1
  float top_p = 1.0f;                 // (0, 1]
  float min_p = 0.0f;                 // [0, 1]
  float repetition_penalty = 1.0f;    // (0, inf); 1 = off
  float presence_penalty = 0.0f;      // [-2, 2]
  float frequency_penalty = 0.0f;     // [-2, 2]
  std::optional<int64_t> seed;        // none: the request's RNG gets a fresh random seed
  std::optional<int32_t> max_tokens;  // >= 1; none: the engine bounds it by the context length
  std::vector<std::string> stop;      // non-empty strings, at most kMaxStopStrings
  std::vector<int32_t> stop_token_ids;
  bool ignore_eos = false;
  bool logprobs = false;     // return the chosen token's logprob
  int32_t top_logprobs = 0;  // [0, 20]; needs logprobs

  // OK, or InvalidArgument naming the first bad field and its allowed range. `vocab_size`
  // bounds stop_token_ids.
  Status Validate(int32_t vocab_size) const;

  bool IsGreedy() const { return temperature < kGreedyTemperature; }
  bool HasPenalties() const {
    return repetition_penalty != 1.0f || presence_penalty != 0.0f || frequency_penalty != 0.0f;
  }
};

}  // namespace dsinfer::sampling

#endif  // DSINFER_SAMPLING_SAMPLING_PARAMS_H_
