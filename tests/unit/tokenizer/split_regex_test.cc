// SplitRegex and the pre-tokenizer's Split behaviours: JS RegExp semantics on PCRE2, and HF
// tokenizers' SplitDelimiterBehavior.
#include "tokenizer/split_regex.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "tokenizer/pre_tokenizer.h"

namespace dsinfer::tokenizer {
namespace {

std::vector<std::string> Matches(std::string_view pattern, std::string_view text) {
  StatusOr<SplitRegex> re = SplitRegex::Compile(pattern);
  EXPECT_TRUE(re.ok()) << re.status().ToString();
  std::vector<std::string> out;
  EXPECT_TRUE(re->FindAll(text, [&](ByteRange m) {
                  out.emplace_back(text.substr(m.begin, m.end - m.begin));
                }).ok());
  return out;
}

TEST(SplitRegex, WhitespaceIsJavaScriptsSet) {
  // U+0085 (NEL) is whitespace to PCRE2's Unicode tables but not to JavaScript; U+FEFF is
  // the other way round.
  EXPECT_TRUE(Matches("\\s+",
                      "a\xC2\x85"
                      "b")
                  .empty());
  EXPECT_EQ(Matches("\\s+",
                    "a\xEF\xBB\xBF"
                    "b"),
            std::vector<std::string>{"\xEF\xBB\xBF"});
  EXPECT_EQ(Matches("[^\\s\\p{L}]+", "ab, cd"), std::vector<std::string>{","});
  EXPECT_EQ(Matches("\\s+(?!\\S)|\\s+", "a   b"), (std::vector<std::string>{"  ", " "}));
}

TEST(SplitRegex, DollarMatchesOnlyAtTheEnd) {
  EXPECT_EQ(Matches("\\s+$", "a \n"), std::vector<std::string>{" \n"});
  EXPECT_TRUE(Matches("x$", "x\n").empty());
}

TEST(SplitRegex, UnicodePropertiesAndEmptyMatches) {
  EXPECT_EQ(Matches("\\p{N}{1,3}", "12345"), (std::vector<std::string>{"123", "45"}));
  EXPECT_EQ(Matches("\\p{L}+", "\xE4\xB8\xAD\xE6\x96\x87 x"),
            (std::vector<std::string>{"\xE4\xB8\xAD\xE6\x96\x87", "x"}));
  EXPECT_TRUE(Matches("x*", "\xE4\xB8\xAD").empty());  // empty matches step whole characters
  EXPECT_EQ(Matches("(?i:'s|'t)", "IT'S it't"), (std::vector<std::string>{"'S", "'t"}));
}

TEST(SplitRegex, LiteralsAndErrors) {
  StatusOr<SplitRegex> literal = SplitRegex::Literal("a.\\s\\E+");
  ASSERT_TRUE(literal.ok()) << literal.status().ToString();
  std::vector<std::string> found;
  const std::string text = "xa.\\s\\E+ya.b";
  ASSERT_TRUE(
      literal
          ->FindAll(text,
                    [&](ByteRange m) { found.push_back(text.substr(m.begin, m.end - m.begin)); })
          .ok());
  EXPECT_EQ(found, std::vector<std::string>{"a.\\s\\E+"});
  EXPECT_FALSE(SplitRegex::Compile("(").ok());
  EXPECT_FALSE(SplitRegex::Compile("[\\S]").ok());  // \S inside a class: refused, not wrong
  EXPECT_FALSE(SplitRegex::Compile("\xFF").ok());
  EXPECT_FALSE(SplitRegex::Literal("").ok());
}

std::vector<std::string> Pieces(SplitBehavior behavior, bool invert, std::string_view text) {
  StatusOr<SplitRegex> re = SplitRegex::Compile("-");
  EXPECT_TRUE(re.ok());
  std::vector<PreTokenizerStep> steps;
  steps.emplace_back(SplitStep{.regex = *re, .behavior = behavior, .invert = invert});
  StatusOr<PreTokenizer> pre = PreTokenizer::Create(std::move(steps));
  EXPECT_TRUE(pre.ok());
  std::vector<std::string_view> pieces;
  std::deque<std::string> storage;
  EXPECT_TRUE(pre->Split(text, &pieces, &storage).ok());
  return {pieces.begin(), pieces.end()};
}

TEST(PreTokenizer, SplitBehavioursFollowHfTokenizers) {
  using V = std::vector<std::string>;
  // The examples of HF tokenizers' SplitDelimiterBehavior docs: "the-final--countdown".
  const std::string_view text = "the-final--countdown";
  EXPECT_EQ(Pieces(SplitBehavior::kRemoved, false, text), (V{"the", "final", "countdown"}));
  EXPECT_EQ(Pieces(SplitBehavior::kIsolated, false, text),
            (V{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(Pieces(SplitBehavior::kMergedWithPrevious, false, text),
            (V{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(Pieces(SplitBehavior::kMergedWithNext, false, text),
            (V{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(Pieces(SplitBehavior::kContiguous, false, text),
            (V{"the", "-", "final", "--", "countdown"}));
  // invert: the matches are the pieces kept, the gaps the delimiters.
  EXPECT_EQ(Pieces(SplitBehavior::kRemoved, true, text), (V{"-", "-", "-"}));
}

TEST(PreTokenizer, ByteLevelPrefixSpaceAndDigits) {
  std::vector<PreTokenizerStep> steps;
  steps.emplace_back(DigitsStep{.individual_digits = true});
  steps.emplace_back(ByteLevelStep{.add_prefix_space = true, .use_regex = true});
  StatusOr<PreTokenizer> pre = PreTokenizer::Create(std::move(steps));
  ASSERT_TRUE(pre.ok());
  std::vector<std::string_view> pieces;
  std::deque<std::string> storage;
  ASSERT_TRUE(pre->Split("ab12", &pieces, &storage).ok());
  EXPECT_EQ(std::vector<std::string>(pieces.begin(), pieces.end()),
            (std::vector<std::string>{" ab", " 1", " 2"}));  // GPT-2: " ?\\p{N}+"
}

}  // namespace
}  // namespace dsinfer::tokenizer
