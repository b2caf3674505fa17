// ASCII case folding for names that are ASCII by definition.
#include "base/ascii.h"

#include <gtest/gtest.h>

namespace dsinfer {
namespace {

TEST(AsciiTest, EqualsIgnoringOnlyAsciiCase) {
  EXPECT_TRUE(EqualsIgnoreAsciiCase("Q4_K_M", "q4_k_m"));
  EXPECT_TRUE(EqualsIgnoreAsciiCase("Content-Length", "content-LENGTH"));
  EXPECT_TRUE(EqualsIgnoreAsciiCase("", ""));
  EXPECT_FALSE(EqualsIgnoreAsciiCase("q4_k", "q4_k_m"));
  EXPECT_FALSE(EqualsIgnoreAsciiCase("q4_0", "q4_1"));
  EXPECT_FALSE(EqualsIgnoreAsciiCase("@", "`"));                // 0x40 and 0x60: not a letter pair
  EXPECT_FALSE(EqualsIgnoreAsciiCase("\xc3\x89", "\xc3\xa9"));  // É and é: bytes, not folded
  static_assert(EqualsIgnoreAsciiCase("BF16", "bf16"));
}

}  // namespace
}  // namespace dsinfer
