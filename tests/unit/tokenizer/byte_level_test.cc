#include "tokenizer/byte_level.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace dsinfer::tokenizer {
namespace {

TEST(ByteLevel, KnownCodePointsOfGpt2Alphabet) {
  EXPECT_EQ(ByteToCodePoint(' '), U'\u0120');   // 'Ġ'
  EXPECT_EQ(ByteToCodePoint('\n'), U'\u010A');  // 'Ċ'
  EXPECT_EQ(ByteToCodePoint('\t'), U'\u0109');  // 'ĉ'
  EXPECT_EQ(ByteToCodePoint('A'), U'A');
  EXPECT_EQ(ByteToCodePoint(0x00), U'\u0100');
  EXPECT_EQ(ByteToCodePoint(0xAD), U'\u0143');  // soft hyphen: the last remapped byte
  EXPECT_EQ(ByteToCodePoint(0xFF), U'\u00FF');
}

TEST(ByteLevel, IsABijectionOnAllBytes) {
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = ByteToCodePoint(static_cast<uint8_t>(b));
    EXPECT_TRUE(seen.insert(c).second) << b;
    EXPECT_EQ(CodePointToByte(c), static_cast<uint8_t>(b));
  }
  EXPECT_FALSE(CodePointToByte(U' ').has_value());  // a raw space is not in the alphabet
  EXPECT_FALSE(CodePointToByte(U'\u4E2D').has_value());
}

TEST(ByteLevel, RoundTripsArbitraryBytesIncludingInvalidUtf8) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string encoded = BytesToByteLevel(all);
  EXPECT_EQ(ByteLevelToBytes(encoded), all);
  EXPECT_EQ(BytesToByteLevel("Hello world"), "Hello\xC4\xA0world");
  EXPECT_EQ(BytesToByteLevel("\xE4\xB8\xAD"), "\xC3\xA4\xC2\xB8\xC5\x83");  // 中 -> "ä¸Ń"
}

TEST(ByteLevel, RejectsTextOutsideTheAlphabet) {
  EXPECT_FALSE(ByteLevelToBytes("a b").has_value());           // raw space
  EXPECT_FALSE(ByteLevelToBytes("\xE4\xB8\xAD").has_value());  // 中 itself
  EXPECT_FALSE(ByteLevelToBytes("\xC4").has_value());          // truncated sequence
  EXPECT_FALSE(ByteLevelToBytes("\xC0\x80").has_value());      // overlong NUL
  EXPECT_EQ(ByteLevelToBytes(""), std::string());
}

}  // namespace
}  // namespace dsinfer::tokenizer
