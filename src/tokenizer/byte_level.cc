#include "tokenizer/byte_level.h"

#include <array>

namespace dsinfer::tokenizer {
namespace {

struct Tables {
  std::array<char32_t, 256> to_code_point{};
  std::array<int16_t, 324> to_byte{};  // indexed by code point; -1: not in the alphabet
  std::array<std::string, 256> utf8;   // to_code_point[b] encoded
};

bool StandsForItself(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

std::string EncodeUtf8(char32_t c) {
  std::string out;
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else {  // the alphabet ends at U+0143, so two bytes always suffice
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
  return out;
}

const Tables& GetTables() {
  static const Tables kTables = [] {
    Tables t;
    t.to_byte.fill(-1);
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const char32_t c = StandsForItself(b) ? static_cast<char32_t>(b) : next++;
      t.to_code_point[static_cast<size_t>(b)] = c;
      t.to_byte[c] = static_cast<int16_t>(b);
      t.utf8[static_cast<size_t>(b)] = EncodeUtf8(c);
    }
    return t;
  }();
  return kTables;
}

}  // namespace

char32_t ByteToCodePoint(uint8_t b) { return GetTables().to_code_point[b]; }

std::optional<uint8_t> CodePointToByte(char32_t c) {
  const Tables& t = GetTables();
  if (c >= t.to_byte.size() || t.to_byte[c] < 0) return std::nullopt;
  return static_cast<uint8_t>(t.to_byte[c]);
}

std::string BytesToByteLevel(std::string_view bytes) {
  const Tables& t = GetTables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char ch : bytes) out += t.utf8[static_cast<uint8_t>(ch)];
  return out;
}

std::optional<std::string> ByteLevelToBytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<uint8_t>(text[i]);
    char32_t c = 0;
    if (lead < 0x80) {
      c = lead;
      i += 1;
    } else if ((lead & 0xE0) == 0xC0 && i + 1 < text.size() &&
               (static_cast<uint8_t>(text[i + 1]) & 0xC0) == 0x80 && lead >= 0xC2) {
      c = (static_cast<char32_t>(lead & 0x1F) << 6) | (static_cast<uint8_t>(text[i + 1]) & 0x3F);
      i += 2;
    } else {
      return std::nullopt;  // invalid UTF-8, or a 3/4-byte sequence: outside the alphabet
    }
    const std::optional<uint8_t> b = CodePointToByte(c);
    if (!b) return std::nullopt;
    out += static_cast<char>(*b);
  }
  return out;
}

}  // namespace dsinfer::tokenizer
