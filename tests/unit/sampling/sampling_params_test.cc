// SamplingParams::Validate: every field's range, with the field named in the error.
#include "sampling/sampling_params.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace dsinfer::sampling {
namespace {

using ::testing::HasSubstr;

constexpr int32_t kVocab = 1000;

// Expects InvalidArgument whose message contains every one of `parts`.
void ExpectInvalid(const SamplingParams& params, const std::string& field,
                   const std::string& range) {
  const Status status = params.Validate(kVocab);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << field;
  EXPECT_THAT(std::string(status.message()), HasSubstr(field));
  EXPECT_THAT(std::string(status.message()), HasSubstr(range));
}

TEST(SamplingParams, DefaultsAndBoundaryValuesAreValid) {
  EXPECT_TRUE(SamplingParams{}.Validate(kVocab).ok());
  SamplingParams edges{.temperature = 2.0f,
                       .top_k = -1,
                       .top_p = 1.0f,
                       .min_p = 1.0f,
                       .repetition_penalty = 0.5f,
                       .presence_penalty = -2.0f,
                       .frequency_penalty = 2.0f,
                       .seed = -7,
                       .max_tokens = 1,
                       .stop = {"a", "\xE4\xB8\xAD"},
                       .stop_token_ids = {0, kVocab - 1},
                       .logprobs = true,
                       .top_logprobs = 20};
  EXPECT_TRUE(edges.Validate(kVocab).ok());
  edges.temperature = 0.0f;
  edges.top_k = 0;
  edges.top_p = 1e-6f;
  edges.min_p = 0.0f;
  EXPECT_TRUE(edges.Validate(kVocab).ok());
}

TEST(SamplingParams, RejectsEachFieldOutsideItsRange) {
  ExpectInvalid({.temperature = 2.01f}, "temperature", "[0, 2]");
  ExpectInvalid({.temperature = -0.1f}, "temperature", "[0, 2]");
  ExpectInvalid({.temperature = std::nanf("")}, "temperature", "nan");
  ExpectInvalid({.top_k = -2}, "top_k", ">= 1");
  ExpectInvalid({.top_p = 0.0f}, "top_p", "(0, 1]");
  ExpectInvalid({.top_p = 1.5f}, "top_p", "(0, 1]");
  ExpectInvalid({.min_p = -0.1f}, "min_p", "[0, 1]");
  ExpectInvalid({.min_p = 1.1f}, "min_p", "[0, 1]");
  ExpectInvalid({.repetition_penalty = 0.0f}, "repetition_penalty", "(0, inf)");
  ExpectInvalid({.repetition_penalty = INFINITY}, "repetition_penalty", "(0, inf)");
  ExpectInvalid({.presence_penalty = 2.5f}, "presence_penalty", "[-2, 2]");
  ExpectInvalid({.frequency_penalty = -2.5f}, "frequency_penalty", "[-2, 2]");
  ExpectInvalid({.max_tokens = 0}, "max_tokens", ">= 1");
  ExpectInvalid({.stop = {"ok", ""}}, "stop[1]", "non-empty");
  ExpectInvalid({.stop = std::vector<std::string>(kMaxStopStrings + 1, "x")}, "stop", "at most 16");
  ExpectInvalid({.stop_token_ids = {5, kVocab}}, "stop_token_ids[1]", "[0, 1000)");
  ExpectInvalid({.stop_token_ids = {-1}}, "stop_token_ids[0]", "[0, 1000)");
  ExpectInvalid({.logprobs = true, .top_logprobs = 21}, "top_logprobs", "[0, 20]");
  ExpectInvalid({.top_logprobs = 3}, "top_logprobs", "requires logprobs");
}

TEST(SamplingParams, GreedyAndPenaltyPredicates) {
  EXPECT_TRUE(SamplingParams{.temperature = 0.0f}.IsGreedy());
  EXPECT_TRUE(SamplingParams{.temperature = 1e-6f}.IsGreedy());
  EXPECT_FALSE(SamplingParams{.temperature = 0.01f}.IsGreedy());
  EXPECT_FALSE(SamplingParams{}.HasPenalties());
  EXPECT_TRUE(SamplingParams{.repetition_penalty = 1.1f}.HasPenalties());
  EXPECT_TRUE(SamplingParams{.presence_penalty = 0.1f}.HasPenalties());
  EXPECT_TRUE(SamplingParams{.frequency_penalty = -0.1f}.HasPenalties());
}

}  // namespace
}  // namespace dsinfer::sampling
