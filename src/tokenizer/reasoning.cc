// ReasoningSplitter: tag search over pending + chunk, holding back a possible tag prefix.
#include "tokenizer/reasoning.h"

#include <algorithm>
#include <utility>

namespace dsinfer::tokenizer {

ReasoningSplitter::ReasoningSplitter(ReasoningOptions options)
    : options_(std::move(options)), in_reasoning_(options_.starts_in_reasoning) {}

ReasoningDelta ReasoningSplitter::Feed(std::string_view chunk) {
  ReasoningDelta delta;
  std::string text = std::move(pending_);
  pending_.clear();
  text.append(chunk);
  size_t pos = 0;
  while (true) {
    const std::string& tag = in_reasoning_ ? options_.close_tag : options_.open_tag;
    std::string& out = in_reasoning_ ? delta.reasoning : delta.answer;
    const size_t at = tag.empty() ? std::string::npos : text.find(tag, pos);
    if (at != std::string::npos) {
      out.append(text, pos, at - pos);
      pos = at + tag.size();
      if (in_reasoning_) closed_ = true;
      in_reasoning_ = !in_reasoning_;
      continue;
    }
    // Hold back the longest tail that is a proper prefix of the tag.
    size_t hold = std::min(tag.empty() ? 0 : tag.size() - 1, text.size() - pos);
    while (hold > 0 && text.compare(text.size() - hold, hold, tag, 0, hold) != 0) --hold;
    out.append(text, pos, text.size() - pos - hold);
    pending_ = text.substr(text.size() - hold);
    return delta;
  }
}

ReasoningDelta ReasoningSplitter::Finish() {
  ReasoningDelta delta;
  (in_reasoning_ ? delta.reasoning : delta.answer) = std::move(pending_);
  pending_.clear();
  return delta;
}

ReasoningDelta SplitReasoning(std::string_view text, const ReasoningOptions& options) {
  ReasoningSplitter splitter(options);
  ReasoningDelta all = splitter.Feed(text);
  ReasoningDelta rest = splitter.Finish();
  all.reasoning += rest.reasoning;
  all.answer += rest.answer;
  return all;
}

}  // namespace dsinfer::tokenizer
