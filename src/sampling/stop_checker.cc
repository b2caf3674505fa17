// StopChecker: held-back suffix bookkeeping and the stop searches.
#include "sampling/stop_checker.h"

#include <algorithm>

#include "base/check.h"

namespace dsinfer::sampling {

std::string_view FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
  }
  return "unknown";
}

StopChecker::StopChecker(const SamplingParams& params, std::optional<int32_t> eos_token_id)
    : stop_strings_(params.stop),
      stop_token_ids_(params.stop_token_ids),
      max_tokens_(params.max_tokens) {
  if (eos_token_id.has_value() && !params.ignore_eos) stop_token_ids_.push_back(*eos_token_id);
}

StopUpdate StopChecker::Append(int32_t token, std::string_view piece) {
  DSI_CHECK_MSG(!finished_, "StopChecker::Append after the stream finished");
  ++generated_tokens_;
  StopUpdate update;
  if (std::find(stop_token_ids_.begin(), stop_token_ids_.end(), token) != stop_token_ids_.end()) {
    finished_ = true;
    update.text = Emit(pending_.size());
    update.finish_reason = FinishReason::kStop;
    update.stop_token = token;
    return update;
  }

  pending_.append(piece);
  size_t match_at = std::string::npos;
  const std::string* matched = nullptr;
  for (const std::string& stop : stop_strings_) {
    const size_t at = pending_.find(stop);
    if (at < match_at) {
      match_at = at;
      matched = &stop;
    }
  }
  if (matched != nullptr) {
    finished_ = true;
    update.text = Emit(match_at);
    pending_.clear();
    update.finish_reason = FinishReason::kStop;
    update.stop_string = *matched;
    return update;
  }
  if (max_tokens_.has_value() && generated_tokens_ >= *max_tokens_) {
    finished_ = true;
    update.text = Emit(pending_.size());
    update.finish_reason = FinishReason::kLength;
    return update;
  }
  update.text = Emit(pending_.size() - HeldBackLength());
  return update;
}

std::string_view StopChecker::Flush() {
  finished_ = true;
  return Emit(pending_.size());
}

std::string_view StopChecker::Emit(size_t n) {
  emitted_.assign(pending_, 0, n);
  pending_.erase(0, n);
  return emitted_;
}

size_t StopChecker::HeldBackLength() const {
  const std::string_view text = pending_;
  size_t held = 0;
  for (const std::string& stop : stop_strings_) {
    // Longer candidates first: the first that fits is this stop's longest.
    for (size_t len = std::min(stop.size() - 1, text.size()); len > held; --len) {
      if (text.ends_with(std::string_view(stop).substr(0, len))) {
        held = len;
        break;
      }
    }
  }
  return held;
}

}  // namespace dsinfer::sampling
