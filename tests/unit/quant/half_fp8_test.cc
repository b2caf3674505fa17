// Float conversions: F16 and BF16 against exhaustive properties, FP8 E4M3 against the OCP
// definition, and the block-scaled FP8 weights of DeepSeek-V3 checkpoints.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "quant/fp8.h"
#include "quant/half.h"

namespace dsinfer {
namespace {

TEST(HalfTest, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = Fp16ToFp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(Fp16ToFp32(Fp32ToFp16(f)))) << h;
      continue;
    }
    ASSERT_EQ(Fp32ToFp16(f), h) << "half 0x" << std::hex << h;
  }
}

TEST(HalfTest, KnownValuesAndRounding) {
  EXPECT_EQ(Fp32ToFp16(1.0f), 0x3c00);
  EXPECT_EQ(Fp32ToFp16(-2.0f), 0xc000);
  EXPECT_EQ(Fp32ToFp16(65504.0f), 0x7bff);
  EXPECT_EQ(Fp32ToFp16(65520.0f), 0x7c00);  // halfway to 65536 rounds to even: inf
  EXPECT_EQ(Fp32ToFp16(65519.99f), 0x7bff);
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.0f, -25)), 0x0000);  // tie between 0 and 2^-24: even
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(Fp32ToFp16(std::ldexp(3.0f, -25)), 0x0002);  // tie 1.5 ulp -> 2 (even)
  // 1 + 2^-11 is halfway between 1 and the next half: ties to even (1.0).
  EXPECT_EQ(Fp32ToFp16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(Fp32ToFp16(1.0f + std::ldexp(3.0f, -11)), 0x3c02);
  EXPECT_EQ(Fp32ToFp16(-0.0f), 0x8000);
  EXPECT_EQ(Fp32ToFp16(std::numeric_limits<float>::infinity()), 0x7c00);
}

TEST(HalfTest, MatchesRoundingOfDoubleArithmetic) {
  // For random floats, the half is the nearest representable value (checked in double).
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits(0, 0xffffffffU);
  for (int i = 0; i < 200000; ++i) {
    const float f = std::bit_cast<float>(bits(rng));
    if (!std::isfinite(f) || std::fabs(f) >= 65504.0f) continue;
    const uint16_t h = Fp32ToFp16(f);
    const double got = Fp16ToFp32(h);
    const double below = Fp16ToFp32(static_cast<uint16_t>(h - 1));
    const double above = Fp16ToFp32(static_cast<uint16_t>(h + 1));
    const double err = std::fabs(got - f);
    if ((h & 0x7fff) != 0) {
      ASSERT_LE(err, std::fabs(below - f)) << f;
    }
    if ((h & 0x7fff) < 0x7bff) {
      ASSERT_LE(err, std::fabs(above - f)) << f;
    }
  }
}

TEST(Bf16Test, RoundsToNearestEvenAndKeepsNaN) {
  EXPECT_EQ(Fp32ToBf16(1.0f), 0x3f80);
  EXPECT_EQ(Fp32ToBf16(std::bit_cast<float>(0x3f808000U)), 0x3f80);  // tie -> even
  EXPECT_EQ(Fp32ToBf16(std::bit_cast<float>(0x3f818000U)), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(Fp32ToBf16(std::bit_cast<float>(0x3f808001U)), 0x3f81);
  EXPECT_TRUE(std::isnan(Bf16ToFp32(Fp32ToBf16(std::numeric_limits<float>::quiet_NaN()))));
  // A signalling NaN whose payload sits in the low bits must not become infinity.
  EXPECT_TRUE(std::isnan(Bf16ToFp32(Fp32ToBf16(std::bit_cast<float>(0x7f800001U)))));
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = Bf16ToFp32(static_cast<uint16_t>(h));
    if (!std::isnan(f)) {
      ASSERT_EQ(Fp32ToBf16(f), h);
    }
  }
}

TEST(Fp8Test, DecodesTheOcpE4M3Grid) {
  EXPECT_EQ(Fp8E4M3ToFp32(0x00), 0.0f);
  EXPECT_EQ(Fp8E4M3ToFp32(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(Fp8E4M3ToFp32(0x08), std::ldexp(1.0f, -6));  // smallest normal
  EXPECT_EQ(Fp8E4M3ToFp32(0x38), 1.0f);
  EXPECT_EQ(Fp8E4M3ToFp32(0x7E), 448.0f);
  EXPECT_EQ(Fp8E4M3ToFp32(0xFE), -448.0f);
  EXPECT_TRUE(std::isnan(Fp8E4M3ToFp32(0x7F)));
  EXPECT_TRUE(std::isnan(Fp8E4M3ToFp32(0xFF)));
  EXPECT_EQ(Fp8E4M3ToFp32(0x78), 256.0f);  // no infinities in e4m3fn: exponent 15 is normal
}

TEST(Fp8Test, EncodeInvertsDecodeAndRoundsToNearestEven) {
  for (int v = 0; v < 256; ++v) {
    if (v == 0x7F || v == 0xFF) continue;
    const float f = Fp8E4M3ToFp32(static_cast<uint8_t>(v));
    if (v == 0x80) {
      EXPECT_EQ(Fp32ToFp8E4M3(f), 0x80);  // -0 keeps its sign
      continue;
    }
    ASSERT_EQ(Fp32ToFp8E4M3(f), v) << f;
    // Midpoints to the next code round to the even mantissa.
    if ((v & 0x7F) < 0x7E) {
      const float next = Fp8E4M3ToFp32(static_cast<uint8_t>(v + 1));
      const uint8_t mid = Fp32ToFp8E4M3((f + next) / 2);
      EXPECT_EQ(mid, (v & 1) == 0 ? v : v + 1) << "between " << f << " and " << next;
    }
  }
  EXPECT_EQ(Fp32ToFp8E4M3(1000.0f), 0x7E);  // saturates instead of becoming NaN
  EXPECT_EQ(Fp32ToFp8E4M3(-1e30f), 0xFE);
  EXPECT_EQ(Fp32ToFp8E4M3(std::numeric_limits<float>::quiet_NaN()) & 0x7F, 0x7F);
  EXPECT_EQ(Fp32ToFp8E4M3(std::ldexp(1.0f, -11)), 0x00);  // below half the smallest subnormal
}

TEST(Fp8Test, BlockScaledWeightsDequantiseAndDot) {
  // Awkward shape: neither dimension a multiple of the 128 block (like kv_a_proj [576, 7168]
  // has a 64-row tail); blocks of 16 keep the test small.
  const Fp8BlockScaledShape shape{.rows = 37, .cols = 53, .block = 16};
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(shape.rows * shape.cols));
  for (size_t i = 0; i < w.size(); ++i) w[i] = normal(rng) * (1.0f + static_cast<float>(i % 7));
  std::vector<uint8_t> q(w.size());
  std::vector<float> scales(static_cast<size_t>(shape.scale_rows() * shape.scale_cols()));
  ASSERT_TRUE(QuantizeFp8BlockScaled(shape, w, q, scales).ok());
  std::vector<float> back(w.size());
  ASSERT_TRUE(DequantizeFp8BlockScaled(shape, q, scales, 0, shape.rows, back).ok());
  // E4M3 keeps 3 mantissa bits: relative error per element at most 2^-4 (half an ulp), plus
  // subnormal steps for values far below the block maximum.
  for (size_t i = 0; i < w.size(); ++i) {
    const size_t r = i / shape.cols, c = i % shape.cols;
    const float scale = scales[(r / 16) * shape.scale_cols() + c / 16];
    ASSERT_NEAR(back[i], w[i], std::fabs(w[i]) / 16 + scale * std::ldexp(1.0f, -10)) << i;
  }
  std::vector<float> x(static_cast<size_t>(shape.cols));
  for (auto& v : x) v = normal(rng);
  for (int64_t r = 0; r < shape.rows; ++r) {
    double want = 0.0;
    for (int64_t c = 0; c < shape.cols; ++c)
      want += static_cast<double>(back[r * shape.cols + c]) * x[c];
    const float got = DotFp8BlockScaledRow(shape, q.data(), scales.data(), r, x.data());
    ASSERT_NEAR(got, want, 1e-4 * (1.0 + std::fabs(want))) << "row " << r;
  }
  // A slice of rows dequantises to the same values.
  std::vector<float> slice(static_cast<size_t>(5 * shape.cols));
  ASSERT_TRUE(DequantizeFp8BlockScaled(shape, q, scales, 30, 35, slice).ok());
  for (size_t i = 0; i < slice.size(); ++i) ASSERT_EQ(slice[i], back[30 * shape.cols + i]);
}

TEST(Fp8Test, ShapeMismatchesAreErrors) {
  const Fp8BlockScaledShape shape{.rows = 130, .cols = 7, .block = 128};  // scales [2, 1]
  std::vector<uint8_t> q(size_t{130} * 7);
  std::vector<float> scales(1), out(size_t{130} * 7);
  const Status s = DequantizeFp8BlockScaled(shape, q, scales, 0, 130, out);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("needs scales [2, 1], got 1"), std::string_view::npos) << s.ToString();
  scales.resize(2);
  EXPECT_FALSE(DequantizeFp8BlockScaled(shape, q, scales, 0, 131, out).ok());
  EXPECT_TRUE(DequantizeFp8BlockScaled(shape, q, scales, 0, 130, out).ok());
}

}  // namespace
}  // namespace dsinfer
