// StopChecker: stop strings across every split of the text, overlapping prefixes, several
// stops, UTF-8, stop tokens, eos, max_tokens.
#include "sampling/stop_checker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dsinfer::sampling {
namespace {

constexpr int32_t kEos = 2;
constexpr int32_t kText = 100;  // any token that is not a stop token

struct StreamResult {
  std::string emitted;
  std::optional<FinishReason> finish_reason;
  std::string stop_string;
  size_t finished_at_piece = 0;
};

// Feeds the pieces until the checker finishes, then flushes if it did not.
StreamResult Feed(StopChecker& checker, const std::vector<std::string>& pieces) {
  StreamResult run;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const StopUpdate update = checker.Append(kText, pieces[i]);
    run.emitted += update.text;
    if (update.finished()) {
      run.finish_reason = update.finish_reason;
      run.stop_string = std::string(update.stop_string.value_or(""));
      run.finished_at_piece = i;
      return run;
    }
  }
  run.emitted += checker.Flush();
  return run;
}

StreamResult FeedWithStops(const std::vector<std::string>& stops,
                           const std::vector<std::string>& pieces) {
  StopChecker checker({.stop = stops}, kEos);
  return Feed(checker, pieces);
}

// Every way to cut `text` into non-empty pieces.
std::vector<std::vector<std::string>> AllSplits(const std::string& text) {
  std::vector<std::vector<std::string>> splits;
  const size_t cuts = text.size() - 1;
  for (uint32_t mask = 0; mask < (1u << cuts); ++mask) {
    std::vector<std::string> pieces(1);
    for (size_t i = 0; i < text.size(); ++i) {
      pieces.back() += text[i];
      if (i < cuts && (mask & (1u << i))) pieces.emplace_back();
    }
    splits.push_back(pieces);
  }
  return splits;
}

TEST(StopChecker, StopStringSplitAtEveryPositionTruncatesBeforeIt) {
  const std::string text = "ab STOP cd";  // 512 ways to cut it
  for (const std::vector<std::string>& pieces : AllSplits(text)) {
    const StreamResult run = FeedWithStops({"STOP"}, pieces);
    ASSERT_EQ(run.emitted, "ab ");
    ASSERT_EQ(run.finish_reason, FinishReason::kStop);
    EXPECT_EQ(run.stop_string, "STOP");
    // It finishes with the piece that completes "STOP" (byte 6), not later.
    size_t end = 0;
    for (size_t i = 0; i <= run.finished_at_piece; ++i) end += pieces[i].size();
    EXPECT_GE(end, 7u);
    EXPECT_LT(end - pieces[run.finished_at_piece].size(), 7u);
  }
}

TEST(StopChecker, HoldsBackOnlyAPossibleStopPrefix) {
  StopChecker checker({.stop = {"STOP"}}, kEos);
  EXPECT_EQ(checker.Append(kText, "ab S").text, "ab ");
  EXPECT_EQ(checker.Append(kText, "T").text, "");
  EXPECT_EQ(checker.Append(kText, "x").text, "STx");  // "STx" can no longer become "STOP"
  EXPECT_EQ(checker.Append(kText, "yz").text, "yz");
  EXPECT_FALSE(checker.finished());
  StopChecker no_stops({}, kEos);
  EXPECT_EQ(no_stops.Append(kText, "anything").text, "anything");
}

TEST(StopChecker, OverlappingPrefixes) {
  const std::vector<std::string> chars{"a", "a", "b", "c"};
  EXPECT_EQ(FeedWithStops({"ab"}, chars).emitted, "a");
  EXPECT_EQ(FeedWithStops({"aab"}, chars).emitted, "");
  EXPECT_EQ(FeedWithStops({"ab", "aab"}, chars).emitted, "");  // "aab" starts earlier
  EXPECT_EQ(FeedWithStops({"aab", "ab"}, chars).emitted, "");
  EXPECT_EQ(FeedWithStops({"ab", "aab"}, chars).stop_string, "aab");
  // A partial match that fails must release only what can no longer start the stop.
  const StreamResult run = FeedWithStops({"abab"}, {"a", "b", "a", "a", "b", "a", "b", "!"});
  EXPECT_EQ(run.emitted, "aba");
  EXPECT_EQ(run.finished_at_piece, 6u);
  for (const std::vector<std::string>& pieces : AllSplits("abaabab!")) {
    ASSERT_EQ(FeedWithStops({"abab"}, pieces).emitted, "aba");
  }
}

TEST(StopChecker, EarliestOfSeveralStopsWins) {
  for (const std::vector<std::string>& stops :
       {std::vector<std::string>{"world", "lo w"}, std::vector<std::string>{"lo w", "world"}}) {
    const StreamResult run = FeedWithStops(stops, {"hello world"});
    EXPECT_EQ(run.emitted, "hel");
    EXPECT_EQ(run.stop_string, "lo w");
  }
  // The first stop completed in the stream wins even if a longer one would start earlier.
  const StreamResult run = FeedWithStops({"xyz", "y"}, {"ax", "y", "z"});
  EXPECT_EQ(run.emitted, "ax");
  EXPECT_EQ(run.stop_string, "y");
  for (const std::vector<std::string>& pieces : AllSplits("one, two. three")) {
    ASSERT_EQ(FeedWithStops({".", ", t", "three"}, pieces).emitted, "one");
  }
}

TEST(StopChecker, Utf8StopStrings) {
  // Pieces are whole characters, as the streaming detokeniser emits them.
  const StreamResult run = FeedWithStops({"中文"}, {"你好", "中", "文", "字"});
  EXPECT_EQ(run.emitted, "你好");
  EXPECT_EQ(run.finish_reason, FinishReason::kStop);
  // A held-back character is released whole when the stop fails to complete.
  StopChecker checker({.stop = {"終わり", "🙂!"}}, kEos);
  EXPECT_EQ(checker.Append(kText, "日本語です。終").text, "日本語です。");
  EXPECT_EQ(checker.Append(kText, "わ").text, "");
  EXPECT_EQ(checker.Append(kText, "る🙂").text, "終わる");
  EXPECT_EQ(checker.Append(kText, "?").text, "🙂?");
  const StopUpdate end = checker.Append(kText, "🙂!é");
  EXPECT_EQ(end.text, "");
  EXPECT_EQ(end.stop_string, "🙂!");
  const std::vector<std::string> chars{"c", "a", "f", "é", "é", "x"};
  EXPECT_EQ(FeedWithStops({"éé"}, chars).emitted, "caf");
}

TEST(StopChecker, EosAndStopTokensEndWithoutTheirTextAndReleaseHeldText) {
  StopChecker checker({.stop = {"STOP"}}, kEos);
  EXPECT_EQ(checker.Append(kText, "xS").text, "x");
  const StopUpdate update = checker.Append(kEos, "</s>");
  EXPECT_EQ(update.text, "S");
  EXPECT_EQ(update.finish_reason, FinishReason::kStop);
  EXPECT_EQ(update.stop_token, kEos);
  EXPECT_TRUE(checker.finished());

  StopChecker ignoring({.ignore_eos = true}, kEos);
  EXPECT_EQ(ignoring.Append(kEos, "</s>").text, "</s>");
  EXPECT_FALSE(ignoring.finished());
  const StopUpdate by_id = ignoring.Append(7, "<|im_end|>");
  EXPECT_FALSE(by_id.finished());
  StopChecker ids({.stop_token_ids = {7, 9}, .ignore_eos = true}, kEos);
  EXPECT_FALSE(ids.Append(kEos, "a").finished());
  const StopUpdate stop9 = ids.Append(9, "<tool>");
  EXPECT_EQ(stop9.text, "");
  EXPECT_EQ(stop9.finish_reason, FinishReason::kStop);
  EXPECT_EQ(stop9.stop_token, 9);
  StopChecker no_eos({}, std::nullopt);
  EXPECT_FALSE(no_eos.Append(kEos, "x").finished());
}

TEST(StopChecker, MaxTokensFinishesWithLengthAfterStopChecks) {
  StopChecker checker({.max_tokens = 3, .stop = {"END"}}, kEos);
  EXPECT_EQ(checker.Append(kText, "a").text, "a");
  EXPECT_EQ(checker.Append(kText, "E").text, "");
  const StopUpdate last = checker.Append(kText, "N");
  EXPECT_EQ(last.finish_reason, FinishReason::kLength);
  EXPECT_EQ(last.text, "EN");  // held text is released at the end
  EXPECT_EQ(checker.generated_tokens(), 3);

  StopChecker both({.max_tokens = 2, .stop = {"END"}}, kEos);
  both.Append(kText, "EN");
  const StopUpdate stop_wins = both.Append(kText, "D");
  EXPECT_EQ(stop_wins.finish_reason, FinishReason::kStop);
  StopChecker eos_wins({.max_tokens = 1}, kEos);
  EXPECT_EQ(eos_wins.Append(kEos, "").finish_reason, FinishReason::kStop);
}

TEST(StopChecker, FlushReleasesHeldTextAndNamesAreOpenAis) {
  StopChecker checker({.stop = {"STOP"}}, kEos);
  EXPECT_EQ(checker.Append(kText, "xST").text, "x");
  EXPECT_EQ(checker.Flush(), "ST");
  EXPECT_TRUE(checker.finished());
  EXPECT_EQ(FinishReasonName(FinishReason::kStop), "stop");
  EXPECT_EQ(FinishReasonName(FinishReason::kLength), "length");
}

}  // namespace
}  // namespace dsinfer::sampling
