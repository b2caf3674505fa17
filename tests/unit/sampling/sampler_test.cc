// Sampler: greedy, seeded reproducibility, the sampled distribution against a double-precision
// reference (chi-square), logprobs normalisation, errors.
#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

namespace dsinfer::sampling {
namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();

std::vector<float> RandomLogits(size_t n, uint32_t seed, float stddev = 2.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, stddev);
  std::vector<float> logits(n);
  for (float& l : logits) l = normal(rng);
  return logits;
}

// The processed distribution in double: rank, top-k, temperature softmax, top-p, min-p.
std::vector<double> ReferenceProbs(const std::vector<float>& logits, const SamplingParams& p) {
  const size_t n = logits.size();
  std::vector<size_t> ids(n);
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(),
                   [&](size_t a, size_t b) { return logits[a] > logits[b]; });
  const size_t k = p.top_k > 0 ? std::min<size_t>(p.top_k, n) : n;
  std::vector<double> ranked(k);
  double sum = 0.0;
  for (size_t j = 0; j < k; ++j) {
    ranked[j] = std::exp((static_cast<double>(logits[ids[j]]) - logits[ids[0]]) / p.temperature);
    sum += ranked[j];
  }
  size_t keep = 0;
  double before = 0.0;
  while (keep < k && (keep == 0 || before < p.top_p)) before += ranked[keep++] / sum;
  if (p.top_p >= 1.0f) keep = k;
  size_t min_p_keep = 1;
  while (min_p_keep < k && ranked[min_p_keep] >= p.min_p * ranked[0]) ++min_p_keep;
  keep = std::min(keep, min_p_keep);
  double kept_sum = 0.0;
  for (size_t j = 0; j < keep; ++j) kept_sum += ranked[j];
  std::vector<double> probs(n, 0.0);
  for (size_t j = 0; j < keep; ++j) probs[ids[j]] = ranked[j] / kept_sum;
  return probs;
}

// Upper 0.1% point of chi-square with `df` degrees of freedom (Wilson-Hilferty; within a few
// percent for df >= 3, far tighter than the difference a wrong distribution makes).
double ChiSquareCritical(int df) {
  const double z = 3.09;
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

// Draws `draws` tokens and checks the counts against `expected` probabilities: no token with
// probability 0 may appear, and chi-square over the rest (tail cells merged into buckets of
// expected count >= 5) stays under the 0.1% point. Fixed seed, so the test is deterministic;
// the bound says a correct sampler would fail it for only 1 in 1000 seeds.
void ExpectDistribution(const std::vector<float>& logits, const SamplingParams& params,
                        const std::vector<double>& expected, int draws) {
  Sampler sampler(static_cast<int32_t>(logits.size()));
  RequestRng rng(params.seed);
  SampledToken out;
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < draws; ++i) {
    ASSERT_TRUE(sampler.Sample(logits, {}, params, &rng, &out).ok());
    ++counts[out.token];
  }
  double chi2 = 0.0;
  int cells = 0;
  double bucket_expected = 0.0;
  double bucket_observed = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (expected[i] == 0.0) {
      ASSERT_EQ(counts[i], 0) << "token " << i << " has probability 0";
      continue;
    }
    bucket_expected += expected[i] * draws;
    bucket_observed += counts[i];
    if (bucket_expected >= 5.0) {
      chi2 += std::pow(bucket_observed - bucket_expected, 2) / bucket_expected;
      ++cells;
      bucket_expected = bucket_observed = 0.0;
    }
  }
  if (bucket_expected > 0.0) {
    chi2 += std::pow(bucket_observed - bucket_expected, 2) / bucket_expected;
    ++cells;
  }
  ASSERT_GE(cells, 2);
  EXPECT_LT(chi2, ChiSquareCritical(cells - 1)) << "cells " << cells;
}

TEST(Sampler, GreedyTakesTheArgmaxLowestIdOnTiesAndDrawsNothing) {
  Sampler sampler(5);
  const std::vector<float> logits{1.0f, 4.0f, -2.0f, 4.0f, 0.0f};
  RequestRng rng(42);
  SampledToken out;
  for (float t : {0.0f, 5e-6f}) {
    ASSERT_TRUE(sampler.Sample(logits, {}, {.temperature = t}, &rng, &out).ok());
    EXPECT_EQ(out.token, 1);
  }
  RequestRng untouched(42);
  EXPECT_EQ(rng.NextUniform(), untouched.NextUniform());
  // Penalties apply before the argmax: 4 / 4 = 1 for the two leaders, so 0 (first 1) wins.
  const std::vector<int32_t> prompt{1, 3};
  ASSERT_TRUE(sampler
                  .Sample(logits, {prompt, {}}, {.temperature = 0.0f, .repetition_penalty = 4.0f},
                          &rng, &out)
                  .ok());
  EXPECT_EQ(out.token, 0);
}

TEST(Sampler, TopKOneIsGreedyOnALargeVocabulary) {
  const std::vector<float> logits = RandomLogits(129280, 7);
  const auto best =
      static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  Sampler sampler(129280);
  RequestRng rng(3);
  SampledToken out;
  ASSERT_TRUE(sampler.Sample(logits, {}, {.temperature = 0.0f}, &rng, &out).ok());
  EXPECT_EQ(out.token, best);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(sampler.Sample(logits, {}, {.temperature = 1.5f, .top_k = 1}, &rng, &out).ok());
    EXPECT_EQ(out.token, best);
  }
}

TEST(Sampler, SeededRequestsReproduceWhateverElseIsInTheBatch) {
  constexpr size_t kVocab = 129280;
  const std::vector<float> logits_a = RandomLogits(kVocab, 11);
  const std::vector<float> logits_b = RandomLogits(kVocab, 12);
  const std::vector<int32_t> history{5, 6, 7, 5};
  const std::vector<SamplingParams> configs{
      {.temperature = 0.8f, .seed = 1234},
      {.temperature = 1.0f, .top_k = 40, .top_p = 0.95f, .seed = 1234},
      {.temperature = 1.2f, .top_p = 0.9f, .min_p = 0.01f, .seed = -5},
      {.temperature = 0.7f, .min_p = 0.05f, .presence_penalty = 0.5f, .seed = 99},
  };
  Sampler sampler(kVocab);
  for (const SamplingParams& params : configs) {
    // Alone.
    RequestRng alone(params.seed);
    std::vector<int32_t> solo;
    SampledToken out;
    for (int step = 0; step < 20; ++step) {
      ASSERT_TRUE(sampler.Sample(logits_a, {history, {}}, params, &alone, &out).ok());
      solo.push_back(out.token);
    }
    // Interleaved with an unseeded neighbour sharing the sampler.
    RequestRng mine(params.seed);
    RequestRng neighbour(std::nullopt);
    std::vector<int32_t> batched;
    for (int step = 0; step < 20; ++step) {
      ASSERT_TRUE(sampler.Sample(logits_b, {}, {.temperature = 1.0f}, &neighbour, &out).ok());
      ASSERT_TRUE(sampler.Sample(logits_a, {history, {}}, params, &mine, &out).ok());
      batched.push_back(out.token);
    }
    EXPECT_EQ(solo, batched);
    // Not a constant: 20 draws at these temperatures take several distinct tokens.
    std::sort(solo.begin(), solo.end());
    EXPECT_GT(std::unique(solo.begin(), solo.end()) - solo.begin(), 1);
  }
}

TEST(Sampler, DifferentSeedsGiveDifferentStreams) {
  const std::vector<float> logits = RandomLogits(1000, 5, 0.5f);
  Sampler sampler(1000);
  SampledToken out;
  std::vector<int32_t> a, b;
  RequestRng rng_a(1), rng_b(2);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(sampler.Sample(logits, {}, {.seed = 1}, &rng_a, &out).ok());
    a.push_back(out.token);
    ASSERT_TRUE(sampler.Sample(logits, {}, {.seed = 2}, &rng_b, &out).ok());
    b.push_back(out.token);
  }
  EXPECT_NE(a, b);
}

TEST(Sampler, TemperatureOnlyMatchesTheSoftmax) {
  const std::vector<float> logits{0.5f, -1.0f, 2.0f, 0.0f, 1.0f, -0.5f, 1.5f, -2.0f};
  const SamplingParams params{.temperature = 0.7f, .seed = 17};
  ExpectDistribution(logits, params, ReferenceProbs(logits, params), 100000);
}

TEST(Sampler, TopKTopPMinPMatchTheReference) {
  const std::vector<float> logits{0.5f, -1.0f, 2.0f, 0.0f, 1.0f, -0.5f, 1.5f, -2.0f, 1.0f, 0.2f};
  const std::vector<SamplingParams> configs{
      {.temperature = 1.0f, .top_k = 4, .seed = 1},
      {.temperature = 1.3f, .top_p = 0.8f, .seed = 2},
      {.temperature = 0.9f, .min_p = 0.2f, .seed = 3},
      {.temperature = 1.3f, .top_k = 6, .top_p = 0.9f, .min_p = 0.1f, .seed = 4},
      {.temperature = 2.0f, .top_k = 5, .top_p = 0.7f, .seed = 5},
  };
  for (const SamplingParams& params : configs) {
    const std::vector<double> expected = ReferenceProbs(logits, params);
    // The configs truncate: some tokens must be impossible.
    ASSERT_GT(std::count(expected.begin(), expected.end(), 0.0), 0);
    ExpectDistribution(logits, params, expected, 50000);
  }
}

TEST(Sampler, TopPWithoutTopKWidensItsCandidatesOnAFlatDistribution) {
  // 1200 nearly equal logits: top_p 0.9 needs ~1080 tokens, past the first 64 and 512 ranked.
  const std::vector<float> logits = RandomLogits(1200, 21, 0.05f);
  const SamplingParams params{.temperature = 1.0f, .top_p = 0.9f, .seed = 8};
  const std::vector<double> expected = ReferenceProbs(logits, params);
  const auto kept =
      std::count_if(expected.begin(), expected.end(), [](double p) { return p > 0.0; });
  ASSERT_GT(kept, 512);
  ExpectDistribution(logits, params, expected, 12000);
}

TEST(Sampler, FullVocabularyDrawFindsTokensInEveryBlock) {
  // A 129,280 row whose mass sits on ten tokens spread over the sum blocks plus a light tail.
  std::vector<float> logits(129280, -3.0f);
  const std::vector<int32_t> heavy{0,     4095,  4096,   30000,  65535,
                                   65536, 99999, 120000, 129000, 129279};
  for (size_t i = 0; i < heavy.size(); ++i) logits[heavy[i]] = 5.0f + 0.2f * static_cast<float>(i);
  for (const SamplingParams& params :
       {SamplingParams{.temperature = 1.0f, .seed = 31},
        SamplingParams{.temperature = 1.0f, .min_p = 0.01f, .seed = 32}}) {
    const std::vector<double> expected = ReferenceProbs(logits, params);
    ExpectDistribution(logits, params, expected, 6000);
  }
}

TEST(Sampler, LogprobsAreTheRawLogSoftmaxAndNormalised) {
  const std::vector<float> logits = RandomLogits(20, 9);
  double max = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (float l : logits) sum += std::exp(l - max);
  const double lse = max + std::log(sum);

  Sampler sampler(20);
  RequestRng rng(4);
  SampledToken out;
  const std::vector<int32_t> generated{3, 3, 8};
  // Temperature, truncation and penalties do not change the reported (raw) logprobs.
  const SamplingParams params{.temperature = 0.3f,
                              .top_k = 3,
                              .frequency_penalty = 1.0f,
                              .logprobs = true,
                              .top_logprobs = 20};
  ASSERT_TRUE(sampler.Sample(logits, {{}, generated}, params, &rng, &out).ok());
  EXPECT_NEAR(out.logprob, logits[out.token] - lse, 1e-5);
  ASSERT_EQ(out.top_logprobs.size(), 20u);
  double total = 0.0;
  for (size_t i = 0; i < out.top_logprobs.size(); ++i) {
    const TokenLogprob& entry = out.top_logprobs[i];
    EXPECT_NEAR(entry.logprob, logits[entry.token] - lse, 1e-5);
    if (i > 0) {
      EXPECT_GE(out.top_logprobs[i - 1].logprob, entry.logprob);
    }
    total += std::exp(static_cast<double>(entry.logprob));
  }
  // 20 float logprobs each within ~1e-6 relative: the probabilities sum to 1 within 1e-5.
  EXPECT_NEAR(total, 1.0, 1e-5);

  SamplingParams fewer = params;
  fewer.top_logprobs = 2;
  ASSERT_TRUE(sampler.Sample(logits, {}, fewer, &rng, &out).ok());
  ASSERT_EQ(out.top_logprobs.size(), 2u);
  EXPECT_EQ(out.top_logprobs[0].token,
            std::max_element(logits.begin(), logits.end()) - logits.begin());
  SamplingParams none = params;
  none.logprobs = false;
  none.top_logprobs = 0;
  ASSERT_TRUE(sampler.Sample(logits, {}, none, &rng, &out).ok());
  EXPECT_TRUE(out.top_logprobs.empty());
}

TEST(Sampler, RejectsBadRowsAndHistories) {
  Sampler sampler(4);
  RequestRng rng(1);
  SampledToken out;
  EXPECT_EQ(sampler.Sample(std::vector<float>(5, 0.0f), {}, {}, &rng, &out).code(),
            StatusCode::kInvalidArgument);
  const std::vector<float> masked(4, kMasked);
  for (const SamplingParams& params : {SamplingParams{.temperature = 0.0f}, SamplingParams{},
                                       SamplingParams{.top_k = 2}, SamplingParams{.top_p = 0.5f}}) {
    const Status status = sampler.Sample(masked, {}, params, &rng, &out);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find("-inf"), std::string_view::npos);
  }
  const std::vector<int32_t> bad{4};
  EXPECT_EQ(
      sampler
          .Sample(std::vector<float>(4, 0.0f), {{}, bad}, {.repetition_penalty = 1.2f}, &rng, &out)
          .code(),
      StatusCode::kInvalidArgument);
}

TEST(Sampler, MaskedTokensAreNeverSampled) {
  std::vector<float> logits = RandomLogits(300, 2);
  for (size_t i = 0; i < logits.size(); i += 2) logits[i] = kMasked;
  Sampler sampler(300);
  RequestRng rng(77);
  SampledToken out;
  for (const SamplingParams& params :
       {SamplingParams{}, SamplingParams{.top_k = 250}, SamplingParams{.top_p = 0.99f}}) {
    for (int i = 0; i < 2000; ++i) {
      ASSERT_TRUE(sampler.Sample(logits, {}, params, &rng, &out).ok());
      ASSERT_EQ(out.token % 2, 1);
    }
  }
}

}  // namespace
}  // namespace dsinfer::sampling
