// ApplyPenalties against hand-computed logits: repetition over prompt + generated, frequency
// and presence over generated only, each distinct token once.
#include "sampling/penalties.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace dsinfer::sampling {
namespace {

struct Row {
  std::vector<float> logits{2.0f, -2.0f, 1.0f, -1.0f, 0.5f, 3.0f};
  std::vector<int32_t> counts = std::vector<int32_t>(6, 0);
};

TEST(Penalties, RepetitionDividesPositiveAndMultipliesNegativeOncePerToken) {
  Row row;
  const std::vector<int32_t> prompt{0, 1, 0, 0};
  const std::vector<int32_t> generated{1, 4, 4};
  ASSERT_TRUE(
      ApplyPenalties(row.logits, {prompt, generated}, {.repetition_penalty = 2.0f}, row.counts)
          .ok());
  // 0: 2 / 2; 1: -2 * 2; 4: 0.5 / 2; 2, 3, 5 untouched.
  EXPECT_EQ(row.logits, (std::vector<float>{1.0f, -4.0f, 1.0f, -1.0f, 0.25f, 3.0f}));
  EXPECT_TRUE(std::all_of(row.counts.begin(), row.counts.end(), [](int32_t c) { return c == 0; }));
}

TEST(Penalties, FrequencyAndPresenceCountOnlyGeneratedTokens) {
  Row row;
  const std::vector<int32_t> prompt{5, 5, 2};
  const std::vector<int32_t> generated{0, 3, 0, 0, 3};
  ASSERT_TRUE(ApplyPenalties(row.logits, {prompt, generated},
                             {.presence_penalty = 0.5f, .frequency_penalty = 0.25f}, row.counts)
                  .ok());
  // 0 generated 3 times: 2 - 0.25 * 3 - 0.5 = 0.75; 3 twice: -1 - 0.5 - 0.5 = -2.
  EXPECT_EQ(row.logits, (std::vector<float>{0.75f, -2.0f, 1.0f, -2.0f, 0.5f, 3.0f}));
  EXPECT_TRUE(std::all_of(row.counts.begin(), row.counts.end(), [](int32_t c) { return c == 0; }));
}

TEST(Penalties, RepetitionAppliesBeforeFrequencyAndPresence) {
  Row row;
  const std::vector<int32_t> generated{5, 5};
  ASSERT_TRUE(
      ApplyPenalties(
          row.logits, {{}, generated},
          {.repetition_penalty = 1.5f, .presence_penalty = -1.0f, .frequency_penalty = 0.5f},
          row.counts)
          .ok());
  EXPECT_FLOAT_EQ(row.logits[5], 3.0f / 1.5f - 0.5f * 2 + 1.0f);
  EXPECT_EQ(row.logits[0], 2.0f);
}

TEST(Penalties, NoPenaltiesLeavesTheRowAlone) {
  Row row;
  const std::vector<float> before = row.logits;
  const std::vector<int32_t> generated{0, 1, 2};
  ASSERT_TRUE(ApplyPenalties(row.logits, {generated, generated}, {}, row.counts).ok());
  EXPECT_EQ(row.logits, before);
}

TEST(Penalties, OutOfVocabularyIdIsAnErrorAndChangesNothing) {
  Row row;
  const std::vector<float> before = row.logits;
  const std::vector<int32_t> prompt{0, 6};
  const Status status =
      ApplyPenalties(row.logits, {prompt, {}}, {.repetition_penalty = 2.0f}, row.counts);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("prompt token 1 is 6"), std::string_view::npos)
      << status.ToString();
  EXPECT_EQ(row.logits, before);
  const std::vector<int32_t> generated{-1};
  EXPECT_FALSE(
      ApplyPenalties(row.logits, {{}, generated}, {.presence_penalty = 1.0f}, row.counts).ok());
  EXPECT_EQ(row.logits, before);
}

}  // namespace
}  // namespace dsinfer::sampling
