#include "tokenizer/utf8_repair.h"

#include <cstdint>

namespace dsinfer::tokenizer {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Bytes of the sequence a lead byte starts (0: not a lead byte), and the allowed range of
// the second byte (Unicode Table 3-7), which rules out overlongs, surrogates and > U+10FFFF.
struct LeadInfo {
  size_t length;
  uint8_t second_lo;
  uint8_t second_hi;
};

LeadInfo Lead(uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// Length of the valid prefix of the sequence starting at text[i] (1 for ASCII, up to the
// full length), and whether it is complete.
size_t ValidPrefix(std::string_view text, size_t i, bool* complete) {
  const LeadInfo lead = Lead(static_cast<uint8_t>(text[i]));
  *complete = false;
  if (lead.length == 0) return 0;
  if (lead.length == 1) {
    *complete = true;
    return 1;
  }
  size_t n = 1;
  while (n < lead.length && i + n < text.size()) {
    const auto b = static_cast<uint8_t>(text[i + n]);
    const uint8_t lo = n == 1 ? lead.second_lo : 0x80;
    const uint8_t hi = n == 1 ? lead.second_hi : 0xBF;
    if (b < lo || b > hi) return n;
    ++n;
  }
  *complete = n == lead.length;
  return n;
}

}  // namespace

std::string ReplaceInvalidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    bool complete = false;
    const size_t n = ValidPrefix(text, i, &complete);
    if (complete) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += kReplacement;
      i += n == 0 ? 1 : n;  // a bad lead byte alone, or the maximal subpart
    }
  }
  return out;
}

size_t IncompleteUtf8Tail(std::string_view text) {
  const size_t start = text.size() > 3 ? text.size() - 3 : 0;
  for (size_t i = start; i < text.size(); ++i) {
    const LeadInfo lead = Lead(static_cast<uint8_t>(text[i]));
    if (lead.length < 2) continue;
    bool complete = false;
    const size_t n = ValidPrefix(text, i, &complete);
    if (!complete && i + n == text.size()) return n;
  }
  return 0;
}

}  // namespace dsinfer::tokenizer
