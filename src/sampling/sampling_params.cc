// SamplingParams::Validate: the ranges of the OpenAI API reference (vLLM's for its extensions).
#include "sampling/sampling_params.h"

#include <fmt/format.h>
#include <cmath>

namespace dsinfer::sampling {
namespace {

// Written as !(inside) so that NaN is rejected too.
Status CheckClosed(const char* field, float value, float lo, float hi) {
  if (!(value >= lo && value <= hi)) {
    return InvalidArgumentError(
        fmt::format("{} must be in [{:g}, {:g}], got {:g}", field, lo, hi, value));
  }
  return Status::Ok();
}

}  // namespace

Status SamplingParams::Validate(int32_t vocab_size) const {
  DSI_RETURN_IF_ERROR(CheckClosed("temperature", temperature, 0.0f, 2.0f));
  if (top_k < -1) {
    return InvalidArgumentError(
        fmt::format("top_k must be -1 or 0 (all tokens) or >= 1, got {}", top_k));
  }
  if (!(top_p > 0.0f && top_p <= 1.0f)) {
    return InvalidArgumentError(fmt::format("top_p must be in (0, 1], got {:g}", top_p));
  }
  DSI_RETURN_IF_ERROR(CheckClosed("min_p", min_p, 0.0f, 1.0f));
  if (!(repetition_penalty > 0.0f && std::isfinite(repetition_penalty))) {
    return InvalidArgumentError(
        fmt::format("repetition_penalty must be in (0, inf), got {:g}", repetition_penalty));
  }
  DSI_RETURN_IF_ERROR(CheckClosed("presence_penalty", presence_penalty, -2.0f, 2.0f));
  DSI_RETURN_IF_ERROR(CheckClosed("frequency_penalty", frequency_penalty, -2.0f, 2.0f));
  if (max_tokens.has_value() && *max_tokens < 1) {
    return InvalidArgumentError(fmt::format("max_tokens must be >= 1, got {}", *max_tokens));
  }
  if (stop.size() > kMaxStopStrings) {
    return InvalidArgumentError(
        fmt::format("stop must hold at most {} strings, got {}", kMaxStopStrings, stop.size()));
  }
  for (size_t i = 0; i < stop.size(); ++i) {
    if (stop[i].empty()) {
      return InvalidArgumentError(fmt::format("stop[{}] must be a non-empty string", i));
    }
  }
  for (size_t i = 0; i < stop_token_ids.size(); ++i) {
    if (stop_token_ids[i] < 0 || stop_token_ids[i] >= vocab_size) {
      return InvalidArgumentError(fmt::format("stop_token_ids[{}] must be in [0, {}), got {}", i,
                                              vocab_size, stop_token_ids[i]));
    }
  }
  if (top_logprobs < 0 || top_logprobs > kMaxTopLogprobs) {
    return InvalidArgumentError(
        fmt::format("top_logprobs must be in [0, {}], got {}", kMaxTopLogprobs, top_logprobs));
  }
  if (top_logprobs > 0 && !logprobs) {
    return InvalidArgumentError("top_logprobs requires logprobs to be true");
  }
  return Status::Ok();
}

}  // namespace dsinfer::sampling
