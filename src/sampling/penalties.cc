// ApplyPenalties: three passes over the history sharing one counter array.
#include "sampling/penalties.h"

#include <fmt/format.h>

namespace dsinfer::sampling {
namespace {

// Marks a token whose repetition penalty is applied; counts stay far below it (a history of
// 2^30 tokens would not fit in memory).
constexpr int32_t kSeenBit = 1 << 30;

Status CheckIds(std::span<const int32_t> ids, size_t vocab_size, const char* what) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || static_cast<size_t>(ids[i]) >= vocab_size) {
      return InvalidArgumentError(fmt::format("{} token {} is {}, outside the vocabulary [0, {})",
                                              what, i, ids[i], vocab_size));
    }
  }
  return Status::Ok();
}

}  // namespace

Status ApplyPenalties(std::span<float> logits, const TokenHistory& history,
                      const SamplingParams& params, std::span<int32_t> counts) {
  if (counts.size() != logits.size()) {
    return InternalError(
        fmt::format("penalty counters: {} for a vocabulary of {}", counts.size(), logits.size()));
  }
  if (!params.HasPenalties()) return Status::Ok();
  DSI_RETURN_IF_ERROR(CheckIds(history.prompt, logits.size(), "prompt"));
  DSI_RETURN_IF_ERROR(CheckIds(history.generated, logits.size(), "generated"));

  for (int32_t id : history.generated) ++counts[id];

  if (const float penalty = params.repetition_penalty; penalty != 1.0f) {
    auto apply_once = [&](int32_t id) {
      if (counts[id] & kSeenBit) return;
      counts[id] |= kSeenBit;
      float& logit = logits[id];
      logit = logit > 0.0f ? logit / penalty : logit * penalty;
    };
    for (int32_t id : history.prompt) apply_once(id);
    for (int32_t id : history.generated) apply_once(id);
  }

  // Zeroing each counter after use applies every generated token once and returns the
  // counters clean; prompt-only tokens hold just the seen bit.
  const float frequency = params.frequency_penalty;
  const float presence = params.presence_penalty;
  for (int32_t id : history.generated) {
    const int32_t count = counts[id] & ~kSeenBit;
    if (count > 0) logits[id] -= frequency * static_cast<float>(count) + presence;
    counts[id] = 0;
  }
  for (int32_t id : history.prompt) counts[id] = 0;
  return Status::Ok();
}

}  // namespace dsinfer::sampling
