#include "tokenizer/normalizer.h"

#include <cctype>

namespace dsinfer::tokenizer {
namespace {

// HF Strip uses char::is_whitespace; for the ASCII text that matters here the sets agree.
bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

}  // namespace

StatusOr<std::string> Normalizer::Apply(std::string_view text) const {
  std::string current(text);
  for (const NormalizerStep& step : steps_) {
    if (const auto* prepend = std::get_if<PrependStep>(&step)) {
      if (!current.empty()) current.insert(0, prepend->prefix);
    } else if (const auto* replace = std::get_if<ReplaceStep>(&step)) {
      std::string next;
      size_t prev = 0;
      DSI_RETURN_IF_ERROR(replace->pattern.FindAll(current, [&](ByteRange m) {
        next.append(current, prev, m.begin - prev);
        next += replace->content;
        prev = m.end;
      }));
      next.append(current, prev);
      current = std::move(next);
    } else if (const auto* strip = std::get_if<StripStep>(&step)) {
      size_t begin = 0;
      size_t end = current.size();
      if (strip->left) {
        while (begin < end && IsAsciiSpace(current[begin])) ++begin;
      }
      if (strip->right) {
        while (end > begin && IsAsciiSpace(current[end - 1])) --end;
      }
      current = current.substr(begin, end - begin);
    }
  }
  return current;
}

}  // namespace dsinfer::tokenizer
