// Truncation processors: argmax ties, top-k against a full sort, temperature, and the
// top-p / min-p boundaries computed by hand.
#include "sampling/logits_processors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

namespace dsinfer::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(ArgMax, LowestIdWinsTiesAndNaNIsIgnored) {
  EXPECT_EQ(ArgMax(std::vector<float>{1.0f, 3.0f, 2.0f, 3.0f}), 1);
  std::vector<float> big(129280, -1.0f);
  big[70000] = 5.0f;
  big[100000] = 5.0f;
  big[3] = std::nanf("");
  EXPECT_EQ(ArgMax(big), 70000);
  EXPECT_EQ(ArgMax(std::vector<float>{-kInf, -kInf}), -1);
  EXPECT_EQ(ArgMax(std::vector<float>{}), -1);
  EXPECT_EQ(ArgMax(std::vector<float>{std::nanf(""), -kInf, -3.0f}), 2);
}

// The reference: stable sort of all ids by value descending (ties keep the lower id first).
std::vector<int32_t> ReferenceTop(const std::vector<float>& values, size_t k, float floor) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] >= floor) ids.push_back(static_cast<int32_t>(i));
  }
  std::stable_sort(ids.begin(), ids.end(),
                   [&](int32_t a, int32_t b) { return values[a] > values[b]; });
  ids.resize(std::min(k, ids.size()));
  return ids;
}

TEST(SelectTop, MatchesAFullSortOnRandomRowsWithTies) {
  std::mt19937 rng(1234);
  std::vector<int32_t> out;
  for (size_t n : {1u, 7u, 63u, 64u, 65u, 1000u, 5001u, 129280u}) {
    // Values rounded to 1/8 so that ties are frequent.
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> values(n);
    for (float& v : values) v = std::round(normal(rng) * 8.0f) / 8.0f;
    for (size_t k : {1u, 2u, 40u, 100u, 1000u, 200000u}) {
      for (float floor : {-kInf, 0.0f, 4.0f}) {
        SelectTop(values, k, floor, &out);
        ASSERT_EQ(out, ReferenceTop(values, k, floor))
            << "n=" << n << " k=" << k << " floor=" << floor;
      }
    }
  }
}

TEST(SelectTop, AscendingRowForcesManyCompactions) {
  std::vector<float> values(10000);
  std::iota(values.begin(), values.end(), 0.0f);
  std::vector<int32_t> out;
  SelectTop(values, 3, -kInf, &out);
  EXPECT_EQ(out, (std::vector<int32_t>{9999, 9998, 9997}));
  values.assign(10000, 1.0f);  // all tied: the lowest ids
  SelectTop(values, 3, -kInf, &out);
  EXPECT_EQ(out, (std::vector<int32_t>{0, 1, 2}));
}

TEST(TemperatureWeights, ScalesLogitDifferences) {
  const std::vector<float> logits{0.0f, 2.0f, 1.0f};
  const std::vector<int32_t> ids{1, 2, 0};
  std::vector<float> weights(3);
  TemperatureWeights(logits, ids, 0.5f, weights);
  // (l - 2) / 0.5 = 0, -2, -4.
  EXPECT_FLOAT_EQ(weights[0], 1.0f);
  EXPECT_FLOAT_EQ(weights[1], std::exp(-2.0f));
  EXPECT_FLOAT_EQ(weights[2], std::exp(-4.0f));
  TemperatureWeights(logits, ids, 2.0f, weights);
  EXPECT_FLOAT_EQ(weights[1], std::exp(-0.5f));
}

TEST(TopPKeep, KeepsTheTokenThatCrossesTopP) {
  // Probabilities 0.5, 0.25, 0.125, 0.125 (exact in binary).
  const std::vector<float> w{4.0f, 2.0f, 1.0f, 1.0f};
  EXPECT_EQ(TopPKeep(w, 8.0, 0.1f), 1u);
  EXPECT_EQ(TopPKeep(w, 8.0, 0.5f), 1u);  // 0.5 reached by the first: the second goes
  EXPECT_EQ(TopPKeep(w, 8.0, 0.51f), 2u);
  EXPECT_EQ(TopPKeep(w, 8.0, 0.75f), 2u);  // the mass before token 3 is exactly 0.75
  EXPECT_EQ(TopPKeep(w, 8.0, 0.76f), 3u);
  EXPECT_EQ(TopPKeep(w, 8.0, 0.875f), 3u);
  EXPECT_EQ(TopPKeep(w, 8.0, 0.9f), 4u);
  EXPECT_EQ(TopPKeep(w, 8.0, 1.0f), 4u);
  // Candidates that are part of a larger distribution (total 16) may fall short.
  EXPECT_EQ(TopPKeep(w, 16.0, 0.6f), std::nullopt);
  EXPECT_EQ(TopPKeep(w, 16.0, 0.5f), 4u);
}

TEST(MinPKeep, ThresholdIsRelativeToTheMostLikely) {
  const std::vector<float> w{1.0f, 0.5f, 0.2f, 0.1f, 0.0f};
  EXPECT_EQ(MinPKeep(w, 0.0f), 5u);
  EXPECT_EQ(MinPKeep(w, 0.1f), 4u);  // 0.1 >= 0.1 * 1 stays
  EXPECT_EQ(MinPKeep(w, 0.11f), 3u);
  EXPECT_EQ(MinPKeep(w, 0.5f), 2u);
  EXPECT_EQ(MinPKeep(w, 1.0f), 1u);
  const std::vector<float> scaled{0.5f, 0.25f, 0.1f};  // unnormalised weights
  EXPECT_EQ(MinPKeep(scaled, 0.5f), 2u);
  EXPECT_EQ(MinPKeep(std::vector<float>{}, 0.5f), 0u);
}

TEST(DrawFromWeights, InverseCdfWithZeroWeightsSkipped) {
  const std::vector<float> w{0.0f, 1.0f, 0.0f, 2.0f, 1.0f, 0.0f};
  EXPECT_EQ(DrawFromWeights(w, 0.0), 1);
  EXPECT_EQ(DrawFromWeights(w, 0.999), 1);
  EXPECT_EQ(DrawFromWeights(w, 1.0), 3);
  EXPECT_EQ(DrawFromWeights(w, 2.999), 3);
  EXPECT_EQ(DrawFromWeights(w, 3.5), 4);
  EXPECT_EQ(DrawFromWeights(w, 4.0), 4);  // past the end by rounding: last positive
  EXPECT_EQ(DrawFromWeights(std::vector<float>{0.0f, 0.0f}, 0.0), -1);
}

}  // namespace
}  // namespace dsinfer::sampling
