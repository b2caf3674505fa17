// Q4_K, Q5_K, IQ4_NL and IQ4_XS through the QuantOps table: round-trip error on random rows, dots
// against the float dot of the dequantised rows, degenerate blocks; plus the 6-bit scale/min
// packing (k_scale_packing.h), tested directly.
// Byte-exactness with ggml is checked against ggml-made vectors where tests/data/quant has them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <vector>

#include "quant/blocks.h"
#include "quant/k_scale_packing.h"
#include "quant/quant_ops.h"
#include "quant_test_util.h"

namespace dsinfer::quant_test {
namespace {

struct MidCase {
  DType dtype;
  // Bound on RMS(dequant - x) / RMS(x) for normal rows. Worst seen over ~1000 rows of
  // 256..4096 elements: 0.080 (Q4_K), 0.040 (Q5_K), 0.086 (IQ4_NL); ~25% headroom.
  double max_relative_rmse;
  // Bound on the relative error of a constant 1e-3 row, whose super-scale is an fp16
  // subnormal for the types with one: Q4_K's d = 1e-3 / (15 * 63) ~ 1e-6 sits on a 6e-8
  // grid, a few percent coarse; IQ4_XS's d = -(1e-3 / 127) / 32 ~ 2.5e-7 on the same grid
  // (3.1 % seen).
  double tiny_constant_tolerance = 0.03;
};

void PrintTo(const MidCase& c, std::ostream* os) { *os << DTypeName(c.dtype); }

class MidTypeTest : public testing::TestWithParam<MidCase> {
 protected:
  DType dtype() const { return GetParam().dtype; }
  const QuantOps& ops() const { return *FindQuantOps(dtype()); }
};

TEST_P(MidTypeTest, RoundTripErrorIsBounded) {
  const std::vector<int> lengths = GetDTypeInfo(dtype()).block_size == kQK_K
                                       ? std::vector<int>{256, 512, 1024, 2048}
                                       : std::vector<int>{96, 4096};
  uint32_t seed = 1;
  for (int n : lengths) {
    for (int row = 0; row < 3; ++row) {
      const std::vector<float> x = RandomRow(n, seed++, row == 2 ? 0.02f : 1.0f);
      const std::vector<float> y = Dequantize(dtype(), Quantize(dtype(), x), n);
      ASSERT_TRUE(AllFinite(y));
      EXPECT_LT(RelativeRmse(x, y), GetParam().max_relative_rmse)
          << DTypeName(dtype()) << " n=" << n << " row " << row;
    }
  }
}

TEST_P(MidTypeTest, DotMatchesFloatDotOfDequantisedRows) {
  for (int n : {256, 1024, 4096}) {
    const std::vector<float> w = RandomRow(n, 100 + n);
    const std::vector<float> a = RandomRow(n, 200 + n, 3.0f);
    const DotComparison dot = CompareDot(dtype(), w, a);
    // Integer partial sums are exact; only a few float roundings per block remain.
    EXPECT_NEAR(dot.kernel, dot.want.value, 1e-5 * dot.want.magnitude)
        << DTypeName(dtype()) << " n=" << n;
  }
}

TEST_P(MidTypeTest, DegenerateBlocksStayFinite) {
  const int n = 512;  // two K super-blocks, sixteen 32-element blocks
  const std::vector<std::byte> aq = Quantize(ops().vec_dot_type, RandomRow(n, 5));

  auto check = [&](const std::vector<float>& x, const char* what) {
    const std::vector<std::byte> q = Quantize(dtype(), x);
    std::vector<float> y = Dequantize(dtype(), q, n);
    EXPECT_TRUE(AllFinite(y)) << DTypeName(dtype()) << " " << what;
    EXPECT_TRUE(std::isfinite(ops().vec_dot(n, q.data(), aq.data())))
        << DTypeName(dtype()) << " " << what;
    return y;
  };

  const std::vector<float> zeros = check(std::vector<float>(n, 0.0f), "zeros");
  for (float v : zeros) ASSERT_EQ(v, 0.0f) << DTypeName(dtype());

  // A constant decodes to within 1%, except where the super-scale is an fp16 subnormal
  // (MidCase::tiny_constant_tolerance).
  struct Constant {
    float value;
    double relative_tolerance;
  };
  for (const Constant c : {Constant{0.5f, 0.01}, Constant{-3.0f, 0.01},
                           Constant{1e-3f, GetParam().tiny_constant_tolerance}}) {
    const std::vector<float> y = check(std::vector<float>(n, c.value), "constant");
    for (float v : y) {
      ASSERT_NEAR(v, c.value, c.relative_tolerance * std::fabs(c.value))
          << DTypeName(dtype()) << " constant " << c.value;
    }
  }

  std::vector<float> outlier = RandomRow(n, 6);
  outlier[37] = 1000.0f;
  const std::vector<float> y = check(outlier, "outlier");
  EXPECT_NEAR(y[37], 1000.0f, 10.0f) << DTypeName(dtype());

  for (float scale : {1e-6f, 1e-14f, 1e-30f}) {
    std::vector<float> tiny = RandomRow(n, 7);
    for (float& v : tiny) v *= scale;
    const std::vector<float> yt = check(tiny, "tiny");
    for (float v : yt) ASSERT_LE(std::fabs(v), 10 * scale) << DTypeName(dtype());
  }
}

INSTANTIATE_TEST_SUITE_P(All, MidTypeTest,
                         testing::Values(MidCase{DType::kQ4_K, 0.10}, MidCase{DType::kQ5_K, 0.05},
                                         MidCase{DType::kIQ4_NL, 0.11},
                                         MidCase{DType::kIQ4_XS, 0.11, 0.04}),
                         DTypeParamName());

TEST(KScalePackingTest, EveryScaleMinPairRoundTripsAtEveryPosition) {
  for (int s = 0; s < 64; ++s) {
    for (int m = 0; m < 64; ++m) {
      // Shift the pair by position so each slot sees all 64x64 pairs next to other values.
      uint8_t scales[quant_ref::kKSubBlocks];
      uint8_t mins[quant_ref::kKSubBlocks];
      for (int j = 0; j < quant_ref::kKSubBlocks; ++j) {
        scales[j] = static_cast<uint8_t>((s + 7 * j) % 64);
        mins[j] = static_cast<uint8_t>((m + 13 * j) % 64);
      }
      uint8_t packed[kKScaleSize];
      quant_ref::PackScaleMinK4(scales, mins, packed);
      for (int j = 0; j < quant_ref::kKSubBlocks; ++j) {
        const quant_ref::KScaleMin sm = quant_ref::UnpackScaleMinK4(j, packed);
        ASSERT_EQ(sm.scale, scales[j]) << "s=" << s << " m=" << m << " j=" << j;
        ASSERT_EQ(sm.min, mins[j]) << "s=" << s << " m=" << m << " j=" << j;
      }
      // The word-at-a-time unpacking the SIMD bodies use gives the same bytes.
      uint32_t words[4];
      quant_ref::UnpackScalesMinsK4Words(packed, words);
      uint8_t unpacked[16];
      std::memcpy(unpacked, words, sizeof(unpacked));
      for (int j = 0; j < quant_ref::kKSubBlocks; ++j) {
        ASSERT_EQ(unpacked[j], scales[j]) << "s=" << s << " m=" << m << " j=" << j;
        ASSERT_EQ(unpacked[8 + j], mins[j]) << "s=" << s << " m=" << m << " j=" << j;
      }
    }
  }
}

TEST(KScalePackingTest, LayoutMatchesGgml) {
  // Pair 5: scale 0b110101, min 0b101110. Low nibbles share byte 9, top bits go to the spare
  // bits of byte 1 (scale) and byte 5 (min).
  uint8_t scales[quant_ref::kKSubBlocks] = {0, 0, 0, 0, 0, 0x35, 0, 0};
  uint8_t mins[quant_ref::kKSubBlocks] = {0, 0, 0, 0, 0, 0x2e, 0, 0};
  uint8_t packed[kKScaleSize];
  quant_ref::PackScaleMinK4(scales, mins, packed);
  const uint8_t expected[kKScaleSize] = {0, 0xc0, 0, 0, 0, 0x80, 0, 0, 0, 0xe5, 0, 0};
  for (int b = 0; b < kKScaleSize; ++b) EXPECT_EQ(packed[b], expected[b]) << "byte " << b;
}

TEST(Iq4nlTest, DequantisesThroughTheCodeBook) {
  BlockIQ4_NL b{};
  b.d = 0x3c00;  // 1.0
  for (int j = 0; j < kQK / 2; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float y[kQK];
  FindQuantOps(DType::kIQ4_NL)->dequantize(&b, y, kQK);
  for (int j = 0; j < kQK / 2; ++j) {
    EXPECT_EQ(y[j], kIq4nlValues[j]);
    EXPECT_EQ(y[j + kQK / 2], kIq4nlValues[15 - j]);
  }
}

}  // namespace
}  // namespace dsinfer::quant_test
