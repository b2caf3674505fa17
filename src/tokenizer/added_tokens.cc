#include "tokenizer/added_tokens.h"

#include <fmt/format.h>

#include "base/utf8.h"

namespace dsinfer::tokenizer {
namespace {

// The code point that starts at text[i] (valid UTF-8), and its length.
char32_t DecodeAt(std::string_view text, size_t i, size_t* length) {
  const auto b0 = static_cast<uint8_t>(text[i]);
  const auto cont = [&](size_t k) { return static_cast<char32_t>(text[i + k] & 0x3F); };
  if (b0 < 0x80) {
    *length = 1;
    return b0;
  }
  if (b0 < 0xE0) {
    *length = 2;
    return (static_cast<char32_t>(b0 & 0x1F) << 6) | cont(1);
  }
  if (b0 < 0xF0) {
    *length = 3;
    return (static_cast<char32_t>(b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2);
  }
  *length = 4;
  return (static_cast<char32_t>(b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
}

// ECMAScript WhiteSpace + LineTerminator (what String.prototype.trim removes).
bool IsJsSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000 || c == 0xFEFF;
}

size_t StartOfLastCodePoint(std::string_view text) {
  size_t i = text.size() - 1;
  while (i > 0 && (static_cast<uint8_t>(text[i]) & 0xC0) == 0x80) --i;
  return i;
}

std::string_view TrimJsSpaceEnd(std::string_view text) {
  while (!text.empty()) {
    const size_t start = StartOfLastCodePoint(text);
    size_t length = 0;
    if (!IsJsSpace(DecodeAt(text, start, &length))) break;
    text = text.substr(0, start);
  }
  return text;
}

std::string_view TrimJsSpaceStart(std::string_view text) {
  while (!text.empty()) {
    size_t length = 0;
    if (!IsJsSpace(DecodeAt(text, 0, &length))) break;
    text = text.substr(length);
  }
  return text;
}

}  // namespace

StatusOr<AddedTokenMatcher> AddedTokenMatcher::Create(const std::vector<AddedToken>& tokens) {
  AddedTokenMatcher matcher;
  DSI_ASSIGN_OR_RETURN(matcher.word_char_, SplitRegex::Compile("^[\\p{L}\\p{N}\\p{M}_]"));
  matcher.nodes_.emplace_back();
  for (size_t t = 0; t < tokens.size(); ++t) {
    const AddedToken& token = tokens[t];
    if (token.content.empty()) {
      return InvalidArgumentError(fmt::format("added token {} has an empty content", token.id));
    }
    if (!IsValidUtf8(token.content)) {
      return InvalidArgumentError(fmt::format("added token {} ('{}') is not valid UTF-8", token.id,
                                              EscapeForMessage(token.content)));
    }
    int32_t node = 0;
    for (const char ch : token.content) {
      const auto byte = static_cast<uint8_t>(ch);
      int32_t child = -1;
      for (const auto& [b, index] : matcher.nodes_[static_cast<size_t>(node)].children) {
        if (b == byte) child = index;
      }
      if (child < 0) {
        child = static_cast<int32_t>(matcher.nodes_.size());
        matcher.nodes_[static_cast<size_t>(node)].children.emplace_back(byte, child);
        matcher.nodes_.emplace_back();
      }
      node = child;
    }
    matcher.nodes_[static_cast<size_t>(node)].token = static_cast<int32_t>(t);
    matcher.first_byte_[static_cast<uint8_t>(token.content[0])] = true;
  }
  matcher.tokens_ = tokens;
  return matcher;
}

bool AddedTokenMatcher::IsWordCharAround(std::string_view text, size_t begin, size_t end) const {
  bool found = false;
  const auto test = [&](std::string_view one_char) {
    (void)word_char_.FindAll(one_char, [&](ByteRange) { found = true; });
  };
  if (begin > 0) {
    const size_t start = StartOfLastCodePoint(text.substr(0, begin));
    test(text.substr(start, begin - start));
  }
  if (end < text.size()) {
    size_t length = 0;
    DecodeAt(text, end, &length);
    test(text.substr(end, length));
  }
  return found;
}

std::pair<size_t, int32_t> AddedTokenMatcher::LongestMatch(std::string_view text, size_t pos,
                                                           bool parse_special) const {
  std::pair<size_t, int32_t> best{0, -1};
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto byte = static_cast<uint8_t>(text[i]);
    int32_t child = -1;
    for (const auto& [b, index] : nodes_[static_cast<size_t>(node)].children) {
      if (b == byte) child = index;
    }
    if (child < 0) break;
    node = child;
    const int32_t t = nodes_[static_cast<size_t>(node)].token;
    if (t < 0) continue;
    const AddedToken& token = tokens_[static_cast<size_t>(t)];
    if (token.special && !parse_special) continue;
    if (token.single_word && IsWordCharAround(text, pos, i + 1)) continue;
    best = {i + 1, t};
  }
  return best;
}

void AddedTokenMatcher::Split(std::string_view text, bool parse_special,
                              std::vector<TextSegment>* out) const {
  size_t start = 0;  // start of the pending ordinary text
  bool strip_next_start = false;
  const auto flush_text = [&](size_t end, bool strip_end) {
    std::string_view pending = text.substr(start, end - start);
    if (strip_next_start) pending = TrimJsSpaceStart(pending);
    if (strip_end) pending = TrimJsSpaceEnd(pending);
    strip_next_start = false;
    out->push_back({pending, -1});
  };
  for (size_t pos = 0; pos < text.size();) {
    if (!first_byte_[static_cast<uint8_t>(text[pos])]) {
      ++pos;
      continue;
    }
    const auto [end, t] = LongestMatch(text, pos, parse_special);
    if (t < 0) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[static_cast<size_t>(t)];
    flush_text(pos, token.lstrip);
    out->push_back({std::string_view(text).substr(pos, end - pos), token.id});
    strip_next_start = token.rstrip;
    start = pos = end;
  }
  flush_text(text.size(), false);
}

}  // namespace dsinfer::tokenizer
