// Q2_K, Q3_K, Q6_K and Q8_K through the QuantOps table: round-trip error bounds, dots against
// the float dot of the dequantised rows, edge super-blocks, and Q8_K's cached group sums; plus
// the scale searches (k_quant_search.h) the quantisers are built on, tested directly.
// Byte equality with ggml is checked against ggml-made vectors in a shared test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ostream>
#include <vector>

#include "quant/blocks.h"
#include "quant/k_quant_search.h"
#include "quant/quant_ops.h"
#include "quant_test_util.h"

namespace dsinfer::quant_test {
namespace {

struct KCase {
  DType dtype;
  // Bound on the RMSE of a standard normal row after a round trip. Measured over the rows
  // below: Q2_K 0.26..0.30, Q3_K 0.13..0.15, Q6_K 0.015..0.018, Q8_K 0.006..0.008 (ggml's
  // bytes are the same, so are its errors); the bounds leave ~15% of room.
  double max_rmse;
};

void PrintTo(const KCase& c, std::ostream* os) { *os << DTypeName(c.dtype); }

class KQuantTest : public ::testing::TestWithParam<KCase> {
 protected:
  DType dtype() const { return GetParam().dtype; }
  const QuantOps& ops() const { return *FindQuantOps(dtype()); }
};

TEST_P(KQuantTest, RoundTripOfNormalRowsStaysClose) {
  for (const int64_t n : {256, 1024, 2048}) {
    for (uint32_t row = 0; row < 4; ++row) {
      const std::vector<float> x = RandomRow(n, static_cast<uint32_t>(n) * 16 + row);
      const std::vector<float> y = Dequantize(dtype(), Quantize(dtype(), x), n);
      EXPECT_LT(Rmse(x, y), GetParam().max_rmse)
          << DTypeName(dtype()) << " n=" << n << " row=" << row;
    }
  }
}

TEST_P(KQuantTest, QuantisingIsDeterministicAndWritesEveryByte) {
  const std::vector<float> x = RandomRow(512, 7);
  EXPECT_EQ(Quantize(dtype(), x, std::byte{0x00}), Quantize(dtype(), x, std::byte{0xFF}))
      << DTypeName(dtype());
}

TEST_P(KQuantTest, DotMatchesFloatDotOfDequantisedRows) {
  if (ops().vec_dot == nullptr) GTEST_SKIP() << "activation-only type";
  ASSERT_EQ(ops().vec_dot_type, DType::kQ8_K);
  for (const int64_t n : {256, 1024, 2048}) {
    for (uint32_t row = 0; row < 3; ++row) {
      const std::vector<float> w = RandomRow(n, 1000 + static_cast<uint32_t>(n) + row);
      const std::vector<float> x = RandomRow(n, 5000 + static_cast<uint32_t>(n) + row, 0.5f);
      const DotComparison dot = CompareDot(dtype(), w, x);
      // Integer sums are exact; only a few float roundings per super-block remain (fp16
      // scales times the f32 activation scale, and the lane sums), so 1e-5 of the sum of
      // |products| is ample.
      EXPECT_NEAR(dot.kernel, dot.want.value, 1e-5 * dot.want.magnitude + 1e-6)
          << DTypeName(dtype()) << " n=" << n << " row=" << row;
    }
  }
}

TEST_P(KQuantTest, ZeroSuperBlockHasZeroScalesAndDequantisesToZero) {
  const std::vector<float> x(kQK_K, 0.0f);
  const std::vector<std::byte> q = Quantize(dtype(), x);
  // The searches give all-zero groups scale 0 and level 0, so every byte is zero: d, the
  // sub-block scales and, for Q2_K/Q3_K, also qs and hmask (level 0 with a zero scale).
  for (std::byte byte : q) EXPECT_EQ(byte, std::byte{0}) << DTypeName(dtype());
  const std::vector<float> y = Dequantize(dtype(), q, kQK_K);
  for (float v : y) EXPECT_EQ(v, 0.0f) << DTypeName(dtype());
  if (ops().vec_dot != nullptr) {
    const std::vector<std::byte> qx = Quantize(ops().vec_dot_type, RandomRow(kQK_K, 3));
    EXPECT_EQ(ops().vec_dot(kQK_K, q.data(), qx.data()), 0.0f) << DTypeName(dtype());
  }
}

TEST_P(KQuantTest, ConstantSuperBlockRoundTripsNearlyExactly) {
  for (const float c : {0.5f, -0.5f, 3.0f}) {
    const std::vector<float> x(kQK_K, c);
    const std::vector<float> y = Dequantize(dtype(), Quantize(dtype(), x), kQK_K);
    ASSERT_TRUE(AllFinite(y)) << DTypeName(dtype());
    // A constant is a grid point of every format up to the fp16 rounding of its scales.
    for (float v : y) EXPECT_NEAR(v, c, 2e-3 * std::fabs(c)) << DTypeName(dtype()) << " c=" << c;
  }
}

TEST_P(KQuantTest, OneHugeOutlierStaysFiniteAndIsKept) {
  std::vector<float> x = RandomRow(kQK_K, 11, 0.01f);
  x[77] = 1e4f;
  const std::vector<float> y = Dequantize(dtype(), Quantize(dtype(), x), kQK_K);
  ASSERT_TRUE(AllFinite(y)) << DTypeName(dtype());
  // The outlier sets the super-block scale, so it is reproduced to a few per cent; the small
  // elements collapse towards zero but must not blow up.
  EXPECT_NEAR(y[77], 1e4f, 0.05e4f) << DTypeName(dtype());
  for (size_t i = 0; i < y.size(); ++i) {
    if (i != 77) {
      EXPECT_LT(std::fabs(y[i]), 0.05e4f) << DTypeName(dtype()) << " i=" << i;
    }
  }
}

TEST_P(KQuantTest, TinyValuesStayFinite) {
  for (const float scale : {1e-8f, 1e-20f}) {
    const std::vector<float> x = RandomRow(kQK_K, 13, scale);
    const std::vector<std::byte> q = Quantize(dtype(), x);
    const std::vector<float> y = Dequantize(dtype(), q, kQK_K);
    ASSERT_TRUE(AllFinite(y)) << DTypeName(dtype()) << " scale=" << scale;
    // fp16 scales underflow here, so all we ask is no garbage: nothing larger than the input.
    for (float v : y) EXPECT_LE(std::fabs(v), 10 * scale) << DTypeName(dtype());
    if (ops().vec_dot != nullptr) {
      const std::vector<std::byte> qx = Quantize(ops().vec_dot_type, RandomRow(kQK_K, 17));
      EXPECT_TRUE(std::isfinite(ops().vec_dot(kQK_K, q.data(), qx.data()))) << DTypeName(dtype());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(KQuants, KQuantTest,
                         ::testing::Values(KCase{DType::kQ2_K, 0.35}, KCase{DType::kQ3_K, 0.18},
                                           KCase{DType::kQ6_K, 0.022}, KCase{DType::kQ8_K, 0.0095}),
                         DTypeParamName());

TEST(Q8_KTest, BsumsAreTheGroupSumsOfQs) {
  constexpr int64_t kBlocks = 4;
  const std::vector<float> x = RandomRow(kBlocks * kQK_K, 21, 3.0f);
  std::vector<BlockQ8_K> q(kBlocks);
  FindQuantOps(DType::kQ8_K)->quantize(x.data(), q.data(), kBlocks * kQK_K);
  for (const BlockQ8_K& b : q) {
    int max_q = 0;
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) {
        sum += b.qs[16 * g + l];
        max_q = std::max(max_q, std::abs(int{b.qs[16 * g + l]}));
      }
      EXPECT_EQ(b.bsums[g], sum) << "group " << g;
    }
    EXPECT_EQ(max_q, 127);  // the largest magnitude maps to ±127
  }
}

TEST(Q8_KTest, ZeroBlockIsAllZeroBytes) {
  const std::vector<std::byte> q = Quantize(DType::kQ8_K, std::vector<float>(kQK_K, 0.0f));
  ASSERT_EQ(q.size(), sizeof(BlockQ8_K));
  for (std::byte byte : q) EXPECT_EQ(byte, std::byte{0});
}

TEST(KQuantSearchTest, ScaleMinFitsAnAffineGridExactly) {
  // x = 0.25 * l - 0.5 for l in 0..3 is representable: the search must find scale and min.
  float x[16];
  float w[16];
  for (int i = 0; i < 16; ++i) {
    x[i] = 0.25f * static_cast<float>(i % 4) - 0.5f;
    w[i] = std::fabs(x[i]);
  }
  uint8_t levels[16];
  float neg_min = 0.0f;
  const float scale = quant_ref::SearchScaleMin(
      16, 3, x, w, {.rmin = -0.5f, .rdelta = 0.1f, .nstep = 15, .use_mad = true}, levels, &neg_min);
  EXPECT_NEAR(scale, 0.25f, 1e-6f);
  EXPECT_NEAR(neg_min, 0.5f, 1e-6f);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(levels[i], i % 4);
}

TEST(KQuantSearchTest, SymmetricSearchesReturnZeroForZeroGroups) {
  const float x[16] = {};
  int8_t levels[16];
  EXPECT_EQ(quant_ref::SearchSymmetricScale(16, 32, x, nullptr, levels), 0.0f);
  for (int8_t l : levels) EXPECT_EQ(l, 0);
  EXPECT_EQ(quant_ref::SearchSymmetricScaleGreedy(16, 4, x, levels), 0.0f);
  for (int8_t l : levels) EXPECT_EQ(l, 0);
}

}  // namespace
}  // namespace dsinfer::quant_test
