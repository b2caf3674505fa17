// ReasoningSplitter: tags at any chunk boundary, no tags, only an opening tag, and a prompt
// that already opened the block.
#include "tokenizer/reasoning.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace dsinfer::tokenizer {
namespace {

// Feeds `text` in the given chunk sizes, checking no delta ever holds part of a tag.
ReasoningDelta Stream(std::string_view text, const std::vector<size_t>& sizes,
                      const ReasoningOptions& options) {
  ReasoningSplitter splitter(options);
  ReasoningDelta all;
  size_t pos = 0;
  size_t i = 0;
  while (pos < text.size()) {
    const size_t n = std::min(sizes[i++ % sizes.size()], text.size() - pos);
    const ReasoningDelta d = splitter.Feed(text.substr(pos, n));
    for (const std::string* s : {&d.reasoning, &d.answer}) {
      EXPECT_EQ(s->find('<'), std::string::npos) << "partial or whole tag emitted: " << *s;
    }
    all.reasoning += d.reasoning;
    all.answer += d.answer;
    pos += n;
  }
  const ReasoningDelta rest = splitter.Finish();
  all.reasoning += rest.reasoning;
  all.answer += rest.answer;
  return all;
}

TEST(ReasoningTest, SplitsAtTagsWhateverTheChunking) {
  const std::string text = "<think>\nstep 1, step 2\n</think>\n\nThe answer is 4.";
  for (size_t size = 1; size <= text.size(); ++size) {
    SCOPED_TRACE(size);
    const ReasoningDelta d = Stream(text, {size}, {});
    EXPECT_EQ(d.reasoning, "\nstep 1, step 2\n");
    EXPECT_EQ(d.answer, "\n\nThe answer is 4.");
  }
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<size_t> sizes(8);
    for (size_t& s : sizes) s = 1 + rng() % 9;
    const ReasoningDelta d = Stream(text, sizes, {});
    EXPECT_EQ(d.reasoning, "\nstep 1, step 2\n");
    EXPECT_EQ(d.answer, "\n\nThe answer is 4.");
  }
}

TEST(ReasoningTest, PromptAlreadyOpenedThink) {
  // R1's template ends the prompt with "<think>\n": the output has only the close tag.
  const ReasoningOptions options{.starts_in_reasoning = true};
  for (size_t size : {1, 2, 3, 5, 100}) {
    const ReasoningDelta d = Stream("thinking...</think>answer", {size}, options);
    EXPECT_EQ(d.reasoning, "thinking...");
    EXPECT_EQ(d.answer, "answer");
  }
  ReasoningSplitter splitter(options);
  EXPECT_TRUE(splitter.in_reasoning());
  splitter.Feed("a</think>b");
  EXPECT_FALSE(splitter.in_reasoning());
  EXPECT_TRUE(splitter.reasoning_closed());
}

TEST(ReasoningTest, NoTagsIsAllAnswer) {
  const ReasoningDelta d = SplitReasoning("plain answer with a < sign and </b>");
  EXPECT_EQ(d.reasoning, "");
  EXPECT_EQ(d.answer, "plain answer with a < sign and </b>");
}

TEST(ReasoningTest, OnlyAnOpeningTagIsAllReasoning) {
  const ReasoningDelta d = Stream("<think>still thinking when the stream ended", {3}, {});
  EXPECT_EQ(d.reasoning, "still thinking when the stream ended");
  EXPECT_EQ(d.answer, "");
}

TEST(ReasoningTest, HeldBackPrefixIsReleasedWhenItIsNotATag) {
  ReasoningSplitter splitter({.starts_in_reasoning = true});
  ReasoningDelta d = splitter.Feed("x </thi");
  EXPECT_EQ(d.reasoning, "x ");  // "</thi" could still become "</think>"
  d = splitter.Feed("s is not a tag");
  EXPECT_EQ(d.reasoning, "</this is not a tag");
  d = splitter.Feed("</th");
  EXPECT_EQ(d.reasoning, "");
  d = splitter.Finish();  // an unfinished tag at the end is text
  EXPECT_EQ(d.reasoning, "</th");
}

}  // namespace
}  // namespace dsinfer::tokenizer
