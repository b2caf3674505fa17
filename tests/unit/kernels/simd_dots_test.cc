// Edge values for the SIMD vec_dot bodies, beyond simd_test.cc's quantised random rows (which
// never reach some bit patterns: a Q5 block whose high bits are all set, IQ4_NL's extreme code
// book entries, K-quant scales at their maxima, F16 / BF16 values whose low mantissa bits or
// exponent extremes matter). Every level this CPU has runs against the scalar reference.
//
// Quantised types: the blocks here are raw bytes (every bit pattern a file may hold, with
// finite scale halves), so the integer sums are exact on both sides and only the float order
// differs: |simd - reference| <= kDotTol * sum_i |w_i * a_i|, as in simd_test.cc. Activation
// bytes stay in -127..127 for Q8_0 / Q8_1 (the sign trick's documented limit; no quantiser
// writes -128) and reach -128 for Q8_K.
//
// F16 / BF16: products are exact in float, so the bodies differ from the reference (double
// sums) only by their float summation, bounded in float_dots.cc by (n / 32 + 24) * 2^-24 *
// sum_i |w_i * a_i|. Rows whose every partial sum is exact in float must match exactly.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernel_table.h"
#include "platform/cpu_features.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/iq_grids.h"
#include "quant/quant_ops.h"

namespace dsinfer::kernels {
namespace {

// ---- Raw blocks -------------------------------------------------------------------------

// Sets a block's scale halves (d, and m / dmin where the format has one).
// (IQ1_M has no d field: its d is the top nibbles of the four u16 of `scales`.)
template <typename Block>
void SetScales(Block& b, uint16_t d, uint16_t m) {
  if constexpr (std::is_same_v<Block, BlockIQ1_M>) {
    uint16_t words[4];
    std::memcpy(words, b.scales, sizeof(words));
    SetIq1mDBits(words, d);
    std::memcpy(b.scales, words, sizeof(words));
  } else {
    b.d = d;
  }
  if constexpr (requires { b.m; }) b.m = m;
  if constexpr (requires { b.dmin; }) b.dmin = m;
}

// `n_blocks` weight blocks whose bytes come from `byte(rng)`, then sane scale halves.
template <typename Block, typename ByteFn>
std::vector<std::byte> RawWeights(int64_t n_blocks, std::mt19937& rng, ByteFn byte) {
  std::vector<std::byte> out(static_cast<size_t>(n_blocks) * sizeof(Block));
  for (std::byte& b : out) b = static_cast<std::byte>(byte(rng));
  std::uniform_real_distribution<float> scale(1e-3f, 2e-2f);
  for (int64_t i = 0; i < n_blocks; ++i) {
    Block block;
    std::memcpy(&block, out.data() + i * sizeof(Block), sizeof(Block));
    SetScales(block, Fp32ToFp16(scale(rng)), Fp32ToFp16(-scale(rng)));
    std::memcpy(out.data() + i * sizeof(Block), &block, sizeof(Block));
  }
  return out;
}

// Activation rows of n elements from `level(rng)` (int8 values), in Q8_0, Q8_1 or Q8_K.
template <typename LevelFn>
std::vector<std::byte> RawActivations(DType dtype, int64_t n, std::mt19937& rng, LevelFn level) {
  std::uniform_real_distribution<float> scale(1e-3f, 2e-2f);
  std::vector<std::byte> out(static_cast<size_t>(*RowBytes(dtype, n)));
  if (dtype == DType::kQ8_K) {
    auto* y = reinterpret_cast<BlockQ8_K*>(out.data());
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      y[i].d = scale(rng);
      for (int8_t& q : y[i].qs) q = static_cast<int8_t>(level(rng));
      for (int g = 0; g < kQK_K / 16; ++g) {
        int sum = 0;
        for (int l = 0; l < 16; ++l) sum += y[i].qs[16 * g + l];
        y[i].bsums[g] = static_cast<int16_t>(sum);
      }
    }
  } else if (dtype == DType::kQ8_1) {
    auto* y = reinterpret_cast<BlockQ8_1*>(out.data());
    for (int64_t i = 0; i < n / kQK; ++i) {
      const float d = scale(rng);
      int sum = 0;
      for (int8_t& q : y[i].qs) {
        q = static_cast<int8_t>(level(rng));
        sum += q;
      }
      y[i].d = Fp32ToFp16(d);
      y[i].s = Fp32ToFp16(d * static_cast<float>(sum));
    }
  } else {
    auto* y = reinterpret_cast<BlockQ8_0*>(out.data());
    for (int64_t i = 0; i < n / kQK; ++i) {
      y[i].d = Fp32ToFp16(scale(rng));
      for (int8_t& q : y[i].qs) q = static_cast<int8_t>(level(rng));
    }
  }
  return out;
}

class SimdDotsTest : public ::testing::TestWithParam<Isa> {
 protected:
  const KernelTable& table() const { return KernelsFor(GetParam()); }

  // Weights of type Block from `weight_byte`, activations from `act_level`, at several
  // lengths (1, 2, 3, 5 and 17 blocks: both loop tails), against the reference.
  // `exact`: the body promises the reference's bits, not just its value.
  template <typename Block, typename ByteFn, typename LevelFn>
  void ExpectMatches(DType dtype, ByteFn weight_byte, LevelFn act_level, uint32_t seed,
                     bool exact) {
    const QuantOps* ops = FindQuantOps(dtype);
    const int64_t bs = GetDTypeInfo(dtype).block_size;
    std::mt19937 rng(seed);
    for (const int64_t blocks : {1, 2, 3, 5, 17}) {
      const int64_t n = blocks * bs;
      SCOPED_TRACE(testing::Message() << DTypeName(dtype) << " n=" << n);
      const std::vector<std::byte> w = RawWeights<Block>(blocks, rng, weight_byte);
      const std::vector<std::byte> a = RawActivations(ops->vec_dot_type, n, rng, act_level);
      const float want = ops->vec_dot(n, w.data(), a.data());
      const float got = table().VecDot(dtype)(n, w.data(), a.data());
      const double magnitude =
          Magnitude(Dequantize(dtype, w, n), Dequantize(ops->vec_dot_type, a, n), 0, 0, n);
      EXPECT_NEAR(got, want, kDotTol * magnitude) << "magnitude " << magnitude;
      if (exact) {
        EXPECT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want));
      }
    }
  }

  // Every bit pattern at random, then each weight byte fixed at 0x00, 0xFF, 0x55 and 0xAA
  // (all levels, high bits and scales at their minimum or maximum, or alternating) against
  // activations at +-127 (and -128 for Q8_K) or alternating in sign.
  template <typename Block>
  void ExpectMatchesOnEdgeBytes(DType dtype, bool exact = false) {
    const bool q8_k = FindQuantOps(dtype)->vec_dot_type == DType::kQ8_K;
    const int lowest = q8_k ? -128 : -127;
    const auto random_byte = [](std::mt19937& r) { return static_cast<uint8_t>(r()); };
    const auto random_level = [lowest](std::mt19937& r) {
      return std::uniform_int_distribution<int>(lowest, 127)(r);
    };
    ExpectMatches<Block>(dtype, random_byte, random_level, 1, exact);
    uint32_t seed = 10;
    for (const uint8_t fill : {0x00, 0xFF, 0x55, 0xAA}) {
      const auto fixed = [fill](std::mt19937&) { return fill; };
      const auto top = [](std::mt19937&) { return 127; };
      const auto bottom = [lowest](std::mt19937&) { return lowest; };
      const auto alternating = [lowest, k = 0](std::mt19937&) mutable {
        return (k++ % 2 == 0) ? 127 : lowest;
      };
      SCOPED_TRACE(testing::Message() << "weight bytes 0x" << std::hex << int{fill});
      ExpectMatches<Block>(dtype, fixed, top, ++seed, exact);
      ExpectMatches<Block>(dtype, fixed, bottom, ++seed, exact);
      ExpectMatches<Block>(dtype, fixed, alternating, ++seed, exact);
      ExpectMatches<Block>(dtype, fixed, random_level, ++seed, exact);
    }
  }
};

TEST_P(SimdDotsTest, Q4_1OnEdgeBytes) { ExpectMatchesOnEdgeBytes<BlockQ4_1>(DType::kQ4_1); }
TEST_P(SimdDotsTest, Q5_0OnEdgeBytes) { ExpectMatchesOnEdgeBytes<BlockQ5_0>(DType::kQ5_0); }
TEST_P(SimdDotsTest, Q5_1OnEdgeBytes) { ExpectMatchesOnEdgeBytes<BlockQ5_1>(DType::kQ5_1); }
TEST_P(SimdDotsTest, IQ4_NLOnEdgeBytes) { ExpectMatchesOnEdgeBytes<BlockIQ4_NL>(DType::kIQ4_NL); }
TEST_P(SimdDotsTest, Q2_KOnEdgeBytes) { ExpectMatchesOnEdgeBytes<BlockQ2_K>(DType::kQ2_K); }
TEST_P(SimdDotsTest, Q3_KOnEdgeBytes) { ExpectMatchesOnEdgeBytes<BlockQ3_K>(DType::kQ3_K); }
TEST_P(SimdDotsTest, Q5_KOnEdgeBytes) { ExpectMatchesOnEdgeBytes<BlockQ5_K>(DType::kQ5_K); }
// The lattice types' bodies keep the reference's integer sums and float steps: same bits.
TEST_P(SimdDotsTest, IQ2_XXSOnEdgeBytes) {
  ExpectMatchesOnEdgeBytes<BlockIQ2_XXS>(DType::kIQ2_XXS, /*exact=*/true);
}
TEST_P(SimdDotsTest, IQ1_SOnEdgeBytes) {
  ExpectMatchesOnEdgeBytes<BlockIQ1_S>(DType::kIQ1_S, /*exact=*/true);
}
TEST_P(SimdDotsTest, IQ1_MOnEdgeBytes) {
  ExpectMatchesOnEdgeBytes<BlockIQ1_M>(DType::kIQ1_M, /*exact=*/true);
}
TEST_P(SimdDotsTest, IQ2_XSOnEdgeBytes) {
  ExpectMatchesOnEdgeBytes<BlockIQ2_XS>(DType::kIQ2_XS, /*exact=*/true);
}
TEST_P(SimdDotsTest, IQ2_SOnEdgeBytes) {
  ExpectMatchesOnEdgeBytes<BlockIQ2_S>(DType::kIQ2_S, /*exact=*/true);
}
TEST_P(SimdDotsTest, IQ3_XXSOnEdgeBytes) {
  ExpectMatchesOnEdgeBytes<BlockIQ3_XXS>(DType::kIQ3_XXS, /*exact=*/true);
}
TEST_P(SimdDotsTest, IQ3_SOnEdgeBytes) {
  ExpectMatchesOnEdgeBytes<BlockIQ3_S>(DType::kIQ3_S, /*exact=*/true);
}

// Their gemms (a separate product at avx512) on the same edge bytes: 19 rows (a 16-row panel
// and an odd tail) by 515 tokens (the avx512 panels' token tile of 512, the avx2 body's of 64,
// and a tail of 3) and by 1, 2, 3 and 5
// (under the avx512 panels' minimum: each width of its two-row body, full and with a tail),
// every output the dot's bits.
template <typename Block>
void ExpectGemmMatchesTheDotOnEdgeBytes(const KernelTable& t, DType dtype) {
  if (t.Gemm(dtype) == nullptr) return;
  constexpr int64_t kRows = 19;
  constexpr int64_t kTokens = 515;
  constexpr int64_t kBlocks = 3;
  constexpr int64_t kN = kBlocks * kQK_K;
  const QuantOps* ops = FindQuantOps(dtype);
  const int64_t w_row = *RowBytes(dtype, kN);
  const int64_t a_row = *RowBytes(DType::kQ8_K, kN);
  std::mt19937 rng(77);
  for (const int fill : {-1, 0x00, 0xFF, 0x55, 0xAA}) {  // -1: random bytes
    SCOPED_TRACE(testing::Message() << DTypeName(dtype) << " weight bytes " << fill);
    const auto weight_byte = [fill](std::mt19937& r) {
      return fill < 0 ? static_cast<uint8_t>(r()) : static_cast<uint8_t>(fill);
    };
    std::vector<std::byte> w;
    for (int64_t r = 0; r < kRows; ++r) {
      const std::vector<std::byte> row = RawWeights<Block>(kBlocks, rng, weight_byte);
      w.insert(w.end(), row.begin(), row.end());
    }
    std::vector<std::byte> a;
    for (int64_t tok = 0; tok < kTokens; ++tok) {
      // Extremes (-128 and 127) in every other token, random levels in the rest.
      const auto level = [tok](std::mt19937& r) {
        return tok % 2 == 0 ? ((r() % 2 == 0) ? -128 : 127)
                            : std::uniform_int_distribution<int>(-128, 127)(r);
      };
      const std::vector<std::byte> row = RawActivations(DType::kQ8_K, kN, rng, level);
      a.insert(a.end(), row.begin(), row.end());
    }
    for (const int64_t tokens : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{5}, kTokens}) {
      std::vector<float> y(static_cast<size_t>(tokens * kRows));
      t.Gemm(dtype)(kN, w.data(), w_row, kRows, a.data(), a_row, tokens, y.data(), kRows);
      for (int64_t tok = 0; tok < tokens; ++tok) {
        for (int64_t r = 0; r < kRows; ++r) {
          const float want = ops->vec_dot(kN, w.data() + r * w_row, a.data() + tok * a_row);
          ASSERT_EQ(std::bit_cast<uint32_t>(y[static_cast<size_t>(tok * kRows + r)]),
                    std::bit_cast<uint32_t>(want))
              << tokens << " tokens: t=" << tok << " r=" << r;
        }
      }
    }
  }
}

TEST_P(SimdDotsTest, LatticeGemmsMatchTheDotOnEdgeBytes) {
  ExpectGemmMatchesTheDotOnEdgeBytes<BlockIQ2_XXS>(table(), DType::kIQ2_XXS);
  ExpectGemmMatchesTheDotOnEdgeBytes<BlockIQ1_S>(table(), DType::kIQ1_S);
  ExpectGemmMatchesTheDotOnEdgeBytes<BlockIQ1_M>(table(), DType::kIQ1_M);
  ExpectGemmMatchesTheDotOnEdgeBytes<BlockIQ2_XS>(table(), DType::kIQ2_XS);
  ExpectGemmMatchesTheDotOnEdgeBytes<BlockIQ2_S>(table(), DType::kIQ2_S);
  ExpectGemmMatchesTheDotOnEdgeBytes<BlockIQ3_XXS>(table(), DType::kIQ3_XXS);
  ExpectGemmMatchesTheDotOnEdgeBytes<BlockIQ3_S>(table(), DType::kIQ3_S);
}

// ---- F16 / BF16 --------------------------------------------------------------------------

// Lengths around every step and tail of both levels' loops (8, 16, 32 and 64 elements), and on
// either side of the rows whose dots ask for their weights ahead (x86/read_ahead.h:
// 8 KiB, 2048 floats or 4096 halves).
constexpr int64_t kFloatLengths[] = {1,   2,   7,   8,    9,    15,   16,   17,   31,
                                     32,  33,  47,  63,   64,   65,   95,   97,   127,
                                     128, 129, 300, 1001, 2047, 2048, 4095, 4096, 4161};

struct HalfType {
  DType dtype;
  uint16_t (*from_float)(float);
  float (*to_float)(uint16_t);
};
constexpr HalfType kF16{DType::kF16, Fp32ToFp16, Fp16ToFp32};
constexpr HalfType kBF16{DType::kBF16, Fp32ToBf16, Bf16ToFp32};

std::vector<uint16_t> ToHalves(const HalfType& type, const std::vector<float>& x) {
  std::vector<uint16_t> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = type.from_float(x[i]);
  return out;
}

// Fine values (every mantissa bit of the type in use: k * 2^-(bits - 1), |k| < 2^bits) times
// powers of two within 2^-2..1: each product is a multiple of 2^-(bits + 1) below 2 in
// magnitude, so for n <= 1001 every partial sum is a multiple of that unit below 2^11, which
// float holds exactly (2^(12 + bits) <= 2^23 units): any summation order gives the same.
void ExpectExactOnExactRows(const KernelTable& t, const HalfType& type, int mantissa_bits) {
  std::mt19937 rng(7);
  const int top = (1 << mantissa_bits) - 1;
  std::uniform_int_distribution<int> fine(-top, top);
  std::uniform_int_distribution<int> exponent(-2, 0);
  for (const int64_t n : kFloatLengths) {
    SCOPED_TRACE(testing::Message() << DTypeName(type.dtype) << " n=" << n);
    std::vector<float> w(static_cast<size_t>(n));
    std::vector<float> a(static_cast<size_t>(n));
    for (size_t i = 0; i < w.size(); ++i) {
      w[i] = std::ldexp(static_cast<float>(fine(rng)), 1 - mantissa_bits);
      a[i] = std::ldexp(rng() % 2 == 0 ? 1.0f : -1.0f, exponent(rng));
      if (i % 2 == 1) std::swap(w[i], a[i]);  // both operands carry the fine values
    }
    const std::vector<uint16_t> wh = ToHalves(type, w);
    const std::vector<uint16_t> ah = ToHalves(type, a);
    for (size_t i = 0; i < w.size(); ++i) ASSERT_EQ(type.to_float(wh[i]), w[i]) << "not exact";
    const float want = FindQuantOps(type.dtype)->vec_dot(n, wh.data(), ah.data());
    EXPECT_EQ(t.VecDot(type.dtype)(n, wh.data(), ah.data()), want);
  }
}

// Values at the ends of the type's range mixed with ordinary ones, within the bound of
// float_dots.cc. `pool` lists the extreme values; products must not overflow float.
void ExpectWithinBoundOnExtremes(const KernelTable& t, const HalfType& type,
                                 const std::vector<float>& w_pool,
                                 const std::vector<float>& a_pool) {
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const int64_t n : kFloatLengths) {
    SCOPED_TRACE(testing::Message() << DTypeName(type.dtype) << " n=" << n);
    std::vector<uint16_t> wh(static_cast<size_t>(n));
    std::vector<uint16_t> ah(static_cast<size_t>(n));
    double magnitude = 0.0;
    for (size_t i = 0; i < wh.size(); ++i) {
      const bool extreme = rng() % 3 != 0;
      wh[i] = type.from_float(extreme ? w_pool[rng() % w_pool.size()] : normal(rng));
      ah[i] = type.from_float(extreme ? a_pool[rng() % a_pool.size()] : normal(rng));
      magnitude += std::fabs(static_cast<double>(type.to_float(wh[i])) * type.to_float(ah[i]));
    }
    const float want = FindQuantOps(type.dtype)->vec_dot(n, wh.data(), ah.data());
    const float got = t.VecDot(type.dtype)(n, wh.data(), ah.data());
    const double bound = (static_cast<double>(n) / 32 + 24) * std::ldexp(1.0, -24) * magnitude;
    EXPECT_NEAR(got, want, bound) << "magnitude " << magnitude;
  }
}

// An infinity anywhere in the row (main loop or tail) makes the dot that infinity, and an
// infinity times zero makes it NaN, as in the reference.
void ExpectNonFinitePropagates(const KernelTable& t, const HalfType& type) {
  for (const int64_t n : kFloatLengths) {
    for (const int64_t at : {int64_t{0}, n / 2, n - 1}) {
      SCOPED_TRACE(testing::Message() << DTypeName(type.dtype) << " n=" << n << " at=" << at);
      std::vector<uint16_t> w(static_cast<size_t>(n), type.from_float(0.5f));
      std::vector<uint16_t> a(static_cast<size_t>(n), type.from_float(-1.5f));
      w[static_cast<size_t>(at)] = type.from_float(-INFINITY);
      const VecDotFn fast = t.VecDot(type.dtype);
      const VecDotFn ref = FindQuantOps(type.dtype)->vec_dot;
      EXPECT_EQ(fast(n, w.data(), a.data()), ref(n, w.data(), a.data()));
      EXPECT_EQ(fast(n, w.data(), a.data()), INFINITY);
      a[static_cast<size_t>(at)] = type.from_float(0.0f);
      EXPECT_TRUE(std::isnan(fast(n, w.data(), a.data())));
      EXPECT_TRUE(std::isnan(ref(n, w.data(), a.data())));
    }
  }
}

TEST_P(SimdDotsTest, F16IsExactWhereEveryPartialSumIs) {
  ExpectExactOnExactRows(table(), kF16, 11);
}

TEST_P(SimdDotsTest, BF16IsExactWhereEveryPartialSumIs) {
  ExpectExactOnExactRows(table(), kBF16, 8);
}

TEST_P(SimdDotsTest, F16ExtremesStayWithinTheSummationBound) {
  // Largest finite, smallest subnormal, largest subnormal, 1 + the last mantissa bit.
  const std::vector<float> pool = {65504.0f, -65504.0f, std::ldexp(1.0f, -24),
                                   -std::ldexp(1023.0f, -24), 1.0f + std::ldexp(1.0f, -10)};
  ExpectWithinBoundOnExtremes(table(), kF16, pool, pool);
}

TEST_P(SimdDotsTest, BF16ExtremesStayWithinTheSummationBound) {
  // Huge weights meet activations small enough that no sum of 1001 products overflows; tiny
  // products stay normal.
  const std::vector<float> w_pool = {3.0e38f, -1.7e38f, 1.0e-30f, 1.0f + std::ldexp(1.0f, -7),
                                     -(2.0f - std::ldexp(1.0f, -7))};
  const std::vector<float> a_pool = {1.0e-3f / 3, -std::ldexp(1.0f, -11), 1.0e-7f,
                                     std::ldexp(1.0f + std::ldexp(1.0f, -7), -10)};
  ExpectWithinBoundOnExtremes(table(), kBF16, w_pool, a_pool);
}

// F32: normal rows with values near the ends of float's range mixed in, within the bound of
// float_dots.cc (the F16 bound plus one unit for the products the reference rounds).
TEST_P(SimdDotsTest, F32StaysWithinTheSummationBound) {
  const VecDotFn fast = table().VecDot(DType::kF32);
  const VecDotFn ref = FindQuantOps(DType::kF32)->vec_dot;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const float extremes[] = {1.0e15f, -3.0e14f, 1.0e-19f, -1.0e-30f, 1.0f + 0x1p-23f};
  for (const int64_t n : kFloatLengths) {
    SCOPED_TRACE(testing::Message() << "n=" << n);
    std::vector<float> w(static_cast<size_t>(n));
    std::vector<float> a(static_cast<size_t>(n));
    double magnitude = 0.0;
    for (size_t i = 0; i < w.size(); ++i) {
      w[i] = rng() % 4 == 0 ? extremes[rng() % 5] : normal(rng);
      a[i] = rng() % 4 == 0 ? extremes[rng() % 5] : normal(rng);
      magnitude += std::fabs(static_cast<double>(w[i]) * a[i]);
    }
    const double bound = (static_cast<double>(n) / 32 + 25) * std::ldexp(1.0, -24) * magnitude;
    EXPECT_NEAR(fast(n, w.data(), a.data()), ref(n, w.data(), a.data()), bound);
    // Products exact in float and partial sums exact (small integers): any order agrees.
    for (size_t i = 0; i < w.size(); ++i) {
      w[i] = static_cast<float>(static_cast<int>(rng() % 200) - 100);
      a[i] = static_cast<float>(static_cast<int>(rng() % 200) - 100);
    }
    EXPECT_EQ(fast(n, w.data(), a.data()), ref(n, w.data(), a.data()));
    w[static_cast<size_t>(n / 2)] = -INFINITY;
    a[static_cast<size_t>(n / 2)] = 1.0f;
    EXPECT_EQ(fast(n, w.data(), a.data()), -INFINITY);
    a[static_cast<size_t>(n / 2)] = 0.0f;
    EXPECT_TRUE(std::isnan(fast(n, w.data(), a.data())));
  }
}

TEST_P(SimdDotsTest, F16NonFinitePropagates) { ExpectNonFinitePropagates(table(), kF16); }
TEST_P(SimdDotsTest, BF16NonFinitePropagates) { ExpectNonFinitePropagates(table(), kBF16); }

INSTANTIATE_TEST_SUITE_P(EveryLevelOfThisCpu, SimdDotsTest, ::testing::ValuesIn(MachineLevels()),
                         LevelName);

// The edge-byte tests above pass on the avx2 bodies too (both are the reference's bits), so
// they would not notice the VBMI bodies gone from the avx512 table: where the CPU has VBMI and
// BITALG, the four lattice types with grids in registers must not run avx2's dot. (Their
// gemms differ from avx2's at avx512 either way, so only the dots tell.)
TEST(SimdDotsWiring, Avx512LevelTakesTheVbmiLatticeBodiesWhereTheCpuHasThem) {
  const CpuFeatures& cpu = GetCpuFeatures();
  if (!HasAvx512VbmiBodies(cpu)) GTEST_SKIP() << "no AVX-512 VBMI / BITALG here";
  const KernelTable& avx2 = KernelsFor(Isa::kAvx2);
  const KernelTable& avx512 = KernelsFor(Isa::kAvx512);
  for (const DType dtype : {DType::kIQ2_XXS, DType::kIQ2_XS, DType::kIQ3_XXS, DType::kIQ3_S}) {
    EXPECT_NE(avx512.VecDot(dtype), avx2.VecDot(dtype)) << DTypeName(dtype);
  }
}

}  // namespace
}  // namespace dsinfer::kernels
