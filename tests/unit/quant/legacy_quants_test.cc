// The 32-element formats and the float types through the QuantOps table: quantise/dequantise
// error bounds, dots against the float dot of the dequantised rows, edge blocks, size checks.
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <vector>

#include "quant/quant_ops.h"
#include "quant_test_util.h"

namespace dsinfer::quant_test {
namespace {

struct Case {
  DType dtype;
  double max_rmse;  // for standard normal inputs: about step / sqrt(12) of each format
  // Relative to the sum of |products|: block scales are rounded in float; the min term of
  // Q4_1/Q5_1 uses the activation block's sum stored as fp16 (11 significant bits).
  double dot_tolerance = 1e-5;
};

void PrintTo(const Case& c, std::ostream* os) { *os << DTypeName(c.dtype); }

class RoundTripTest : public ::testing::TestWithParam<Case> {};

TEST_P(RoundTripTest, DequantisedRowsStayClose) {
  const Case c = GetParam();
  for (const int64_t n : {32, 96, 4096}) {
    const std::vector<float> x = RandomRow(n, static_cast<uint32_t>(n));
    const std::vector<float> y = Dequantize(c.dtype, Quantize(c.dtype, x), n);
    EXPECT_LT(Rmse(x, y), c.max_rmse) << DTypeName(c.dtype) << " n=" << n;
  }
}

TEST_P(RoundTripTest, DotMatchesFloatDotOfDequantisedRows) {
  const Case c = GetParam();
  const QuantOps* ops = FindQuantOps(c.dtype);
  ASSERT_NE(ops, nullptr);
  if (ops->vec_dot == nullptr) GTEST_SKIP() << "activation-only type";
  for (const int64_t n : {32, 160, 4096}) {
    const std::vector<float> w = RandomRow(n, 1000 + static_cast<uint32_t>(n));
    const std::vector<float> x = RandomRow(n, 2000 + static_cast<uint32_t>(n), 0.5f);
    const DotComparison dot = CompareDot(c.dtype, w, x);
    // The dot rounds per block (scales in float, fp16 activation sums): 1e-5 of the sum of
    // |products| covers that.
    EXPECT_NEAR(dot.kernel, dot.want.value, c.dot_tolerance * dot.want.magnitude + 1e-6)
        << DTypeName(c.dtype) << " n=" << n;
  }
}

TEST_P(RoundTripTest, EdgeBlocksStayFinite) {
  const Case c = GetParam();
  std::vector<float> x(128, 0.0f);                                          // block 0: zeros
  for (int i = 32; i < 64; ++i) x[i] = 3.25f;                               // block 1: constant
  for (int i = 64; i < 96; ++i) x[i] = 1e-8f * static_cast<float>(i - 80);  // block 2: tiny
  for (int i = 96; i < 128; ++i) x[i] = i == 100 ? 1e4f : 0.01f;            // block 3: one outlier
  const std::vector<float> y = Dequantize(c.dtype, Quantize(c.dtype, x), 128);
  for (int i = 0; i < 128; ++i) ASSERT_TRUE(std::isfinite(y[i])) << DTypeName(c.dtype) << " " << i;
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[i], 0.0f) << DTypeName(c.dtype);
  EXPECT_NEAR(y[100], 1e4f, 1e4f * 0.01f) << DTypeName(c.dtype);  // the outlier survives
  EXPECT_NEAR(y[40], 3.25f, 3.25f * 0.07f) << DTypeName(c.dtype);
}

INSTANTIATE_TEST_SUITE_P(Formats, RoundTripTest,
                         ::testing::Values(Case{DType::kF32, 1e-9}, Case{DType::kF16, 1e-3},
                                           Case{DType::kBF16, 5e-3}, Case{DType::kQ8_0, 0.01},
                                           Case{DType::kQ8_1, 0.01}, Case{DType::kQ5_0, 0.06},
                                           Case{DType::kQ5_1, 0.06, 1e-3}, Case{DType::kQ4_0, 0.12},
                                           Case{DType::kQ4_1, 0.12, 1e-3}),
                         DTypeParamName());

TEST(QuantOpsTest, Q4_0PacksNibblesAsGgmlDoes) {
  // Elements 0..15 go to low nibbles, 16..31 to high nibbles; the scale is -max/8.
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i - 16);  // max magnitude: -16
  const std::vector<std::byte> q = Quantize(DType::kQ4_0, x);
  // d = -16 / -8 = 2 -> fp16 0x4000, little-endian.
  EXPECT_EQ(q[0], std::byte{0x00});
  EXPECT_EQ(q[1], std::byte{0x40});
  // x[0] = -16 -> -16/2 + 8.5 = 0.5 -> 0; x[16] = 0 -> 8.5 -> 8: byte 0 = 0x80.
  EXPECT_EQ(q[2], std::byte{0x80});
  // x[15] = -1 -> 8.0 -> 8 (trunc of 8.0); x[31] = 15 -> 16.0 -> min(15, 16) = 15: 0xF8.
  EXPECT_EQ(q[2 + 15], std::byte{0xF8});
}

TEST(QuantOpsTest, SizeMismatchesAndUnknownTypesAreErrors) {
  std::vector<float> x(64, 1.0f);
  std::vector<std::byte> out(67);
  EXPECT_FALSE(QuantizeRows(DType::kQ8_0, x, 64, out).ok());
  out.resize(68);
  EXPECT_TRUE(QuantizeRows(DType::kQ8_0, x, 64, out).ok());
  EXPECT_FALSE(QuantizeRows(DType::kQ8_0, x, 48, out).ok());  // not a multiple of 32
  EXPECT_EQ(QuantizeRows(DType::kIQ1_M, x, 256, out).code(), StatusCode::kUnimplemented);
  std::vector<float> y(60);
  EXPECT_FALSE(DequantizeRows(DType::kQ8_0, out, 64, y).ok());
}

}  // namespace
}  // namespace dsinfer::quant_test
