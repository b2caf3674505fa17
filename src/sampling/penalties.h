// The penalty logits processors: repetition (HF / vLLM), frequency and presence (OpenAI), applied
// in place in that order, each token once however often it occurs.
//
//   token in prompt or generated:  logit = logit > 0 ? logit / repetition_penalty
//                                                    : logit * repetition_penalty
//   then, c = times generated:     logit -= frequency_penalty * c + presence_penalty * (c > 0)
//
// Cost: O(prompt + generated) per call, no allocation: the caller lends one int32 counter per
// vocabulary entry, all zero, and gets it back all zero.
//
// Thread safety: pure function over caller-owned memory.
#ifndef DSINFER_SAMPLING_PENALTIES_H_
#define DSINFER_SAMPLING_PENALTIES_H_

#include <cstdint>
#include <span>

#include "base/status.h"
#include "sampling/sampling_params.h"

namespace dsinfer::sampling {

// The token ids a sequence has seen so far.
struct TokenHistory {
  std::span<const int32_t> prompt;
  std::span<const int32_t> generated;
};

// InvalidArgument, leaving `logits` untouched, if a history id is outside [0, logits.size()).
// `counts` has logits.size() entries, all zero (checked cheaply: its size only).
Status ApplyPenalties(std::span<float> logits, const TokenHistory& history,
                      const SamplingParams& params, std::span<int32_t> counts);

}  // namespace dsinfer::sampling

#endif  // DSINFER_SAMPLING_PENALTIES_H_
