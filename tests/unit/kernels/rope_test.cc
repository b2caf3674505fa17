// RoPE reference: frequency tables against the test vectors of deepseek-models.md §3.6-3.8,
// the MLA softmax scale, and the rotation's properties (identity at 0, norm preserving,
// pairing equivalence under the de-interleave permutation, relative position, long contexts).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/reference/rope.h"

namespace dsinfer {
namespace {

RopeConfig V3Rope() {
  return RopeConfig{.dims = 64,
                    .theta = 10000.0,
                    .scaling = RopeScalingType::kYarn,
                    .factor = 40.0,
                    .original_max_position = 4096,
                    .beta_fast = 32.0,
                    .beta_slow = 1.0,
                    .mscale = 1.0,
                    .mscale_all_dim = 1.0};
}

std::vector<float> Frequencies(const RopeConfig& config) {
  StatusOr<std::vector<float>> f = RopeInverseFrequencies(config);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? *f : std::vector<float>();
}

double Base(double theta, int dims, int i) { return std::pow(theta, -2.0 * i / dims); }

std::vector<float> RandomHead(int dims, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<float> x(static_cast<size_t>(dims));
  for (float& v : x) v = dist(rng);
  return x;
}

double DotInDouble(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

TEST(RopeFrequencies, V3YarnMatchesTestVector) {
  const std::vector<float> f = Frequencies(V3Rope());
  ASSERT_EQ(f.size(), 32u);
  const std::pair<int, double> expected[] = {{0, 1.0},         {1, 0.74989421},    {2, 0.56234133},
                                             {3, 0.42169650},  {8, 0.1},           {11, 0.03900693},
                                             {12, 0.02687936}, {31, 3.3338036e-06}};
  for (const auto& [i, want] : expected) {
    EXPECT_NEAR(f[i], want, want * 2e-7) << "i=" << i;
  }
  // i <= 10 unchanged, i >= 23 divided by 40.
  for (int i = 0; i <= 10; ++i) EXPECT_FLOAT_EQ(f[i], Base(1e4, 64, i)) << i;
  for (int i = 23; i < 32; ++i) EXPECT_FLOAT_EQ(f[i], Base(1e4, 64, i) / 40) << i;
}

TEST(RopeFrequencies, NoneAndLinear) {
  RopeConfig coder{.dims = 128, .theta = 100000.0};
  const std::vector<float> plain = Frequencies(coder);
  coder.scaling = RopeScalingType::kLinear;
  coder.factor = 4.0;
  const std::vector<float> linear = Frequencies(coder);
  ASSERT_EQ(plain.size(), 64u);
  ASSERT_EQ(linear.size(), 64u);
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(plain[i], static_cast<float>(Base(1e5, 128, i))) << i;
    EXPECT_EQ(linear[i], static_cast<float>(Base(1e5, 128, i) / 4)) << i;
  }
}

TEST(RopeFrequencies, Llama3Bands) {
  const RopeConfig llama{.dims = 128,
                         .theta = 500000.0,
                         .scaling = RopeScalingType::kLlama3,
                         .factor = 8.0,
                         .original_max_position = 8192,
                         .low_freq_factor = 1.0,
                         .high_freq_factor = 4.0};
  const std::vector<float> f = Frequencies(llama);
  ASSERT_EQ(f.size(), 64u);
  int unchanged = 0, divided = 0, blended = 0;
  for (int i = 0; i < 64; ++i) {
    const double base = Base(5e5, 128, i);
    if (f[i] == static_cast<float>(base)) {
      ++unchanged;
    } else if (f[i] == static_cast<float>(base / 8)) {
      ++divided;
    } else {
      ++blended;
      EXPECT_GT(f[i], base / 8) << i;
      EXPECT_LT(f[i], base) << i;
    }
  }
  EXPECT_EQ(unchanged, 29);
  EXPECT_EQ(blended, 6);
  EXPECT_EQ(divided, 29);
  EXPECT_NEAR(f[63], 3.0689260e-07, 3.0689260e-07 * 2e-7);
}

TEST(RopeFrequencies, RejectsBadConfigsNamingTheField) {
  const auto error = [](RopeConfig c) {
    return std::string(RopeInverseFrequencies(c).status().message());
  };
  RopeConfig c = V3Rope();
  c.dims = 63;
  EXPECT_NE(error(c).find("dims"), std::string::npos);
  c = V3Rope();
  c.theta = 0;
  EXPECT_NE(error(c).find("rope_theta"), std::string::npos);
  c = V3Rope();
  c.factor = -1;
  EXPECT_NE(error(c).find("rope_scaling.factor"), std::string::npos);
  c = V3Rope();
  c.original_max_position = 0;
  EXPECT_NE(error(c).find("original_max_position_embeddings"), std::string::npos);
  c = V3Rope();
  c.beta_fast = 0.5;
  EXPECT_NE(error(c).find("beta_fast"), std::string::npos);
  c = RopeConfig{.dims = 128,
                 .theta = 5e5,
                 .scaling = RopeScalingType::kLlama3,
                 .factor = 8,
                 .original_max_position = 8192,
                 .low_freq_factor = 4,
                 .high_freq_factor = 1};
  EXPECT_NE(error(c).find("high_freq_factor"), std::string::npos);
  EXPECT_EQ(RopeInverseFrequencies(c).status().code(), StatusCode::kInvalidArgument);
}

TEST(RopeScale, MlaSoftmaxScaleAndAttentionFactor) {
  EXPECT_NEAR(MlaSoftmaxScale(192, 40.0, 1.0), 0.1352338, 5e-8);    // V3 / R1
  EXPECT_NEAR(MlaSoftmaxScale(192, 40.0, 0.707), 0.1147214, 5e-8);  // V2, V2-Lite
  EXPECT_NEAR(MlaSoftmaxScale(192, 1.0, 1.0), 0.0721688, 5e-8);     // no scaling
  EXPECT_NEAR(YarnMscale(40.0, 1.0), 1.368888, 1e-6);
  EXPECT_DOUBLE_EQ(YarnAttentionFactor(V3Rope()), 1.0);  // mscale == mscale_all_dim
  RopeConfig remote_default = V3Rope();
  remote_default.mscale_all_dim = 0.0;  // absent key: m(40, 1) / m(40, 0)
  EXPECT_NEAR(YarnAttentionFactor(remote_default), 1.368888, 1e-6);
  EXPECT_DOUBLE_EQ(YarnAttentionFactor(RopeConfig{.dims = 64}), 1.0);
}

class RopePairingTest : public ::testing::TestWithParam<RopePairing> {};

TEST_P(RopePairingTest, PositionZeroIsIdentity) {
  const std::vector<float> f = Frequencies(V3Rope());
  std::vector<float> x = RandomHead(64, 1);
  const std::vector<float> before = x;
  ApplyRope(GetParam(), f, 0, x.data(), 64);
  EXPECT_EQ(x, before);
}

TEST_P(RopePairingTest, PreservesPairNorms) {
  const std::vector<float> f = Frequencies(V3Rope());
  const RopePairing pairing = GetParam();
  for (const int64_t p : {1, 7, 4095, 163839}) {
    std::vector<float> x = RandomHead(64, 2);
    const std::vector<float> before = x;
    ApplyRope(pairing, f, p, x.data(), 64);
    for (int i = 0; i < 32; ++i) {
      const int u = pairing == RopePairing::kInterleaved ? 2 * i : i;
      const int w = pairing == RopePairing::kInterleaved ? 2 * i + 1 : i + 32;
      const double n0 = std::hypot(before[u], before[w]);
      EXPECT_NEAR(std::hypot(x[u], x[w]), n0, 1e-6 * (1 + n0)) << "p=" << p << " i=" << i;
    }
  }
}

// q(p) . k(p') depends only on p - p': the same offset 3 at three distances from the origin.
TEST_P(RopePairingTest, DotDependsOnlyOnRelativePosition) {
  const std::vector<float> f = Frequencies(V3Rope());
  const std::vector<float> q = RandomHead(64, 3);
  const std::vector<float> k = RandomHead(64, 4);
  const auto score = [&](int64_t pq, int64_t pk) {
    std::vector<float> a = q, b = k;
    ApplyRope(GetParam(), f, pq, a.data(), 64);
    ApplyRope(GetParam(), f, pk, b.data(), 64);
    return DotInDouble(a, b);
  };
  const double near_origin = score(5, 2);
  EXPECT_NEAR(score(105, 102), near_origin, 1e-4 * std::abs(near_origin) + 1e-4);
  EXPECT_NEAR(score(163839, 163836), near_origin, 1e-4 * std::abs(near_origin) + 1e-4);
}

INSTANTIATE_TEST_SUITE_P(BothPairings, RopePairingTest,
                         ::testing::Values(RopePairing::kInterleaved, RopePairing::kHalfSplit),
                         [](const auto& param_info) {
                           return param_info.param == RopePairing::kInterleaved ? "Interleaved"
                                                                                : "HalfSplit";
                         });

// §3.5: half-split on the de-interleaved vector [x0, x2, ..., x1, x3, ...] is the de-interleaved
// result of interleaved RoPE, bit for bit.
TEST(Rope, InterleavedEqualsHalfSplitUnderDeinterleave) {
  const std::vector<float> f = Frequencies(V3Rope());
  const auto deinterleave = [](const std::vector<float>& x) {
    std::vector<float> y(x.size());
    for (size_t i = 0; i < x.size() / 2; ++i) {
      y[i] = x[2 * i];
      y[i + x.size() / 2] = x[2 * i + 1];
    }
    return y;
  };
  for (const int64_t p : {0, 1, 1000, 163839}) {
    std::vector<float> a = RandomHead(64, 5);
    std::vector<float> b = deinterleave(a);
    ApplyRope(RopePairing::kInterleaved, f, p, a.data(), 64);
    ApplyRope(RopePairing::kHalfSplit, f, p, b.data(), 64);
    EXPECT_EQ(deinterleave(a), b) << "p=" << p;
  }
}

// Angles are computed in double (header): at V3's last position the result is the exact
// rotation for the float frequency table, while a float product p * inv_freq would be off by
// up to ulp(p)/2 rad.
TEST(Rope, LongContextAnglesAreExact) {
  const std::vector<float> f = Frequencies(V3Rope());
  const int64_t p = 163839;
  const std::vector<float> x0 = RandomHead(64, 6);
  std::vector<float> x = x0;
  ApplyRope(RopePairing::kInterleaved, f, p, x.data(), 64);
  double worst_float_angle_error = 0;
  for (size_t i = 0; i < 32; ++i) {
    const long double a = static_cast<long double>(p) * f[i];
    const long double u = x0[2 * i], w = x0[2 * i + 1];
    const long double c = std::cos(a), s = std::sin(a);
    EXPECT_NEAR(x[2 * i], static_cast<double>(u * c - w * s), 1e-6) << i;
    EXPECT_NEAR(x[2 * i + 1], static_cast<double>(u * s + w * c), 1e-6) << i;
    const float float_angle = static_cast<float>(p) * f[i];
    worst_float_angle_error =
        std::max(worst_float_angle_error, std::abs(static_cast<double>(float_angle - a)));
  }
  EXPECT_GT(worst_float_angle_error, 1e-3);  // why the reference does not use float angles
}

TEST(Rope, AttentionFactorScalesTheRotation) {
  const std::vector<float> f = Frequencies(V3Rope());
  std::vector<float> a = RandomHead(64, 7), b = a;
  ApplyRope(RopePairing::kInterleaved, f, 42, a.data(), 64);
  ApplyRope(RopePairing::kInterleaved, f, 42, b.data(), 64, 2.0);
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(b[i], 2 * a[i], 1e-6) << i;
}

// MLA layout: q is [n_tokens, H, 192] with RoPE on dims 128..191; k_pe is [n_tokens, 1, 64].
TEST(Rope, BatchMatchesPerHeadOnTheRopeRange) {
  const std::vector<float> f = Frequencies(V3Rope());
  const std::vector<int64_t> positions = {0, 1, 17, 4096, 163839};
  const RopeBatchLayout q_layout{.n_heads = 3, .head_dim = 192, .rope_offset = 128};
  const size_t n = positions.size() * 3 * 192;
  std::vector<float> q(n);
  std::mt19937 rng(8);
  std::normal_distribution<float> dist;
  for (float& v : q) v = dist(rng);
  std::vector<float> expected = q;
  for (size_t t = 0; t < positions.size(); ++t) {
    for (int h = 0; h < 3; ++h) {
      ApplyRope(RopePairing::kInterleaved, f, positions[t],
                expected.data() + (t * 3 + h) * 192 + 128, 64);
    }
  }
  std::vector<float> got = q;
  ApplyRopeBatch(RopePairing::kInterleaved, f, positions, q_layout, got);
  EXPECT_EQ(got, expected);  // includes the untouched nope values 0..127

  std::vector<float> k_pe(positions.size() * 64);
  for (float& v : k_pe) v = dist(rng);
  std::vector<float> k_expected = k_pe;
  for (size_t t = 0; t < positions.size(); ++t) {
    ApplyRope(RopePairing::kHalfSplit, f, positions[t], k_expected.data() + t * 64, 64);
  }
  ApplyRopeBatch(RopePairing::kHalfSplit, f, positions, {.n_heads = 1, .head_dim = 64}, k_pe);
  EXPECT_EQ(k_pe, k_expected);
}

}  // namespace
}  // namespace dsinfer
