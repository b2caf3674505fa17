// Every entry of every kernel table this CPU can run (scalar, avx2, avx512, ...) against the
// scalar reference of quant/: vec_dot on the same quantised inputs, activation quantisers
// byte for byte (exact .5 ties included), and the fast MatMul against the reference MatMul.
// Plus the DSINFER_ISA resolution that picks the table.
//
// Tolerance of a SIMD vec_dot: the block integer sums are exact, only the float accumulation
// order differs, so |simd - reference| <= kDotTol * sum_i |w_i * a_i| (products of the
// dequantised operands). Entries a level inherits from the reference must match exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/reference/matmul.h"
#include "platform/cpu_features.h"
#include "platform/thread_pool.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/quant_ops.h"

namespace dsinfer::kernels {
namespace {

// Row lengths for a type: one block, three blocks (odd: exercises the 2-block loops' tails),
// and 4096 + one block.
std::vector<int64_t> AwkwardLengths(DType dtype) {
  const int64_t bs = GetDTypeInfo(dtype).block_size;
  return {bs, 3 * bs, 4096 + bs};
}

std::vector<DType> WeightTypes(const KernelTable& t) {
  std::vector<DType> out;
  for (const DTypeInfo& info : AllDTypes()) {
    if (t.VecDot(info.dtype) != nullptr) out.push_back(info.dtype);
  }
  return out;
}

class SimdTest : public ::testing::TestWithParam<Isa> {
 protected:
  const KernelTable& table() const { return KernelsFor(GetParam()); }
};

TEST_P(SimdTest, TableHasTheReferenceEntriesOrOverridesThem) {
  const KernelTable& t = table();
  EXPECT_EQ(t.isa, GetParam());
  for (const DTypeInfo& info : AllDTypes()) {
    const QuantOps* ops = FindQuantOps(info.dtype);
    const bool has_dot = ops != nullptr && ops->vec_dot != nullptr;
    const bool has_quantize = ops != nullptr && ops->quantize != nullptr;
    EXPECT_EQ(t.VecDot(info.dtype) != nullptr, has_dot) << info.name;
    EXPECT_EQ(t.QuantizeRow(info.dtype) != nullptr, has_quantize) << info.name;
    if (GetParam() == Isa::kScalar && ops != nullptr) {
      EXPECT_EQ(t.VecDot(info.dtype), ops->vec_dot) << info.name;
      EXPECT_EQ(t.QuantizeRow(info.dtype), ops->quantize) << info.name;
    }
  }
}

// The Q8_0 block terms the packed bodies take: each block's scale as a float and the exact
// sum of its quants, on random blocks and on the extremes (all -128, all 127).
TEST_P(SimdTest, Q8_0BlockTermsAreEachBlocksScaleAndQuantSum) {
  ASSERT_NE(table().q8_0_block_terms, nullptr);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> level(-128, 127);
  std::vector<BlockQ8_0> blocks(37);
  for (size_t b = 0; b < blocks.size(); ++b) {
    blocks[b].d = Fp32ToFp16(0.01f * static_cast<float>(b + 1));
    for (int8_t& q : blocks[b].qs) {
      q = static_cast<int8_t>(b == 0 ? -128 : b == 1 ? 127 : level(rng));
    }
  }
  std::vector<Q8_0BlockTerms> terms(blocks.size());
  table().q8_0_block_terms(reinterpret_cast<const std::byte*>(blocks.data()),
                           static_cast<int64_t>(blocks.size()), terms.data());
  for (size_t b = 0; b < blocks.size(); ++b) {
    int32_t sum = 0;
    for (const int8_t q : blocks[b].qs) sum += q;
    EXPECT_EQ(terms[b].sum, sum) << "block " << b;
    EXPECT_EQ(terms[b].d, Fp16ToFp32(blocks[b].d)) << "block " << b;
  }
  EXPECT_EQ(terms[0].sum, -128 * 32);
  EXPECT_EQ(terms[1].sum, 127 * 32);
}

TEST_P(SimdTest, VecDotMatchesTheReferenceOnTheSameQuantisedRows) {
  const KernelTable& t = table();
  uint32_t seed = 1;
  for (const DType dtype : WeightTypes(t)) {
    const QuantOps* ops = FindQuantOps(dtype);
    const bool inherited = t.VecDot(dtype) == ops->vec_dot;
    for (const int64_t n : AwkwardLengths(dtype)) {
      SCOPED_TRACE(testing::Message() << DTypeName(dtype) << " n=" << n);
      const std::vector<std::byte> w = Quantize(dtype, RandomFloats(n, ++seed), n);
      const std::vector<std::byte> a =
          Quantize(ops->vec_dot_type, RandomFloats(n, ++seed, 0.5f), n);
      const float want = ops->vec_dot(n, w.data(), a.data());
      const float got = t.VecDot(dtype)(n, w.data(), a.data());
      if (inherited) {
        EXPECT_EQ(got, want);
      } else {
        const double magnitude =
            Magnitude(Dequantize(dtype, w, n), Dequantize(ops->vec_dot_type, a, n), 0, 0, n);
        EXPECT_NEAR(got, want, kDotTol * magnitude) << "magnitude " << magnitude;
      }
    }
  }
}

// The activation types MatMul quantises to.
constexpr DType kActivationTypes[] = {DType::kQ8_0, DType::kQ8_1, DType::kQ8_K, DType::kF16,
                                      DType::kBF16};

void ExpectSameBytes(const KernelTable& t, DType dtype, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  const size_t bytes = static_cast<size_t>(*RowBytes(dtype, n));
  std::vector<std::byte> want(bytes, std::byte{0x5A});
  std::vector<std::byte> got(bytes, std::byte{0xA5});
  FindQuantOps(dtype)->quantize(x.data(), want.data(), n);
  t.QuantizeRow(dtype)(x.data(), got.data(), n);
  for (size_t i = 0; i < bytes; ++i) {
    ASSERT_EQ(got[i], want[i]) << DTypeName(dtype) << " n=" << n << " byte " << i;
  }
}

TEST_P(SimdTest, ActivationQuantisersWriteTheReferenceBytes) {
  const KernelTable& t = table();
  uint32_t seed = 100;
  for (const DType dtype : kActivationTypes) {
    for (const int64_t n : AwkwardLengths(dtype)) {
      ExpectSameBytes(t, dtype, RandomFloats(n, ++seed));
      ExpectSameBytes(t, dtype, RandomFloats(n, ++seed, 1e-3f));
    }
    // All-zero blocks and a block whose only non-zero element is negative.
    std::vector<float> special(static_cast<size_t>(GetDTypeInfo(dtype).block_size * 2), 0.0f);
    special[special.size() - 1] = -3.0f;
    ExpectSameBytes(t, dtype, special);
  }
}

// Q8_0 and Q8_1 scales at the edges of a half: blocks whose d = amax / 127 is an f16 subnormal,
// flushes to f16 zero, overflows to f16 infinity, or is exactly zero, in a row of 35 blocks (two
// full runs of the quantisers' vectorised scales and a partial one).
TEST_P(SimdTest, ActivationScalesAtTheEdgesOfHalfWriteTheReferenceBytes) {
  const float amaxes[] = {1e-5f, 3e-6f, 1e-9f, 1e7f, 65504.0f * 127, 0.0f, 2.5f};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<float> x(size_t{35} * 32);
  for (size_t b = 0; b < 35; ++b) {
    const float amax = amaxes[b % std::size(amaxes)];
    for (size_t j = 0; j < 32; ++j) x[b * 32 + j] = amax * unit(rng);
    x[b * 32 + b % 32] = b % 2 == 0 ? amax : -amax;
  }
  ExpectSameBytes(table(), DType::kQ8_0, x);
  ExpectSameBytes(table(), DType::kQ8_1, x);
}

// Rows of 32-element Q8_0 blocks where x * id lands exactly on k + 0.5 for many elements
// (id = 1/d, d = amax/127, as the quantiser computes them): roundf must round them away from
// zero, where a round-to-nearest-even body would differ on every even k.
std::vector<float> Q8_0TieRow(int n_blocks, uint32_t seed, int* n_ties) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> scale_dist(1e-3f, 10.0f);
  std::uniform_int_distribution<int> level(-126, 125);
  std::vector<float> x(static_cast<size_t>(n_blocks) * 32);
  for (int b = 0; b < n_blocks; ++b) {
    float* blk = x.data() + static_cast<size_t>(b) * 32;
    // Exact scales (powers of two) for the first blocks, arbitrary ones after.
    const float amax = b < 4 ? 127.0f * std::ldexp(1.0f, b - 2) : scale_dist(rng);
    blk[0] = (b % 2 == 0) ? amax : -amax;
    const float d = amax / 127;
    const float id = 1.0f / d;
    for (int j = 1; j < 32; ++j) {
      const float target = static_cast<float>(level(rng)) + 0.5f;
      // Search around target * d for a float whose product with id rounds to exactly target.
      float v = target * d;
      blk[j] = v;
      for (int step = 0; step < 8; ++step) {
        if (v * id == target && std::fabs(v) <= amax) {
          blk[j] = v;
          ++*n_ties;
          break;
        }
        v = std::nextafter(v, v * id < target ? INFINITY : -INFINITY);
      }
    }
  }
  return x;
}

// Values where a float-to-F16/BF16 conversion can differ: NaNs of both signs and with payloads,
// infinities, signed zeros, F16's overflow threshold (65520 rounds to inf, the float below it
// not), its subnormals and underflow, exact ties of both rounding directions, float
// subnormals, and BF16's largest finite values; in lengths that leave a SIMD tail.
TEST_P(SimdTest, FloatQuantisersMatchTheReferenceOnSpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> special = {
      std::numeric_limits<float>::quiet_NaN(),
      -std::numeric_limits<float>::quiet_NaN(),
      std::bit_cast<float>(0x7f800001U),  // signalling NaN, payload 1
      std::bit_cast<float>(0xffc12345U),
      inf,
      -inf,
      0.0f,
      -0.0f,
      65504.0f,
      65519.99f,
      65520.0f,
      -65520.0f,
      1e-7f,   // F16 subnormal
      -3e-8f,  // just above half the smallest F16 subnormal
      2.9e-8f,
      1e-9f,     // underflows to zero
      0x1p-25f,  // F16 subnormal tie, rounds down to zero
      -0x1p-25f,
      3 * 0x1p-25f,                       // F16 subnormal tie, rounds up to 2 units
      5 * 0x1p-25f,                       // and down to 2 units
      1.0f + 0x1p-11f,                    // F16 tie, rounds down to even
      1.0f + 3 * 0x1p-11f,                // F16 tie, rounds up to even
      std::bit_cast<float>(0x3f808000U),  // BF16 tie, rounds down
      std::bit_cast<float>(0x3f818000U),  // BF16 tie, rounds up
      std::numeric_limits<float>::denorm_min(),
      -std::numeric_limits<float>::denorm_min(),
      std::numeric_limits<float>::max(),  // BF16 rounds to inf
      std::bit_cast<float>(0x7f7f7fffU),  // BF16's largest finite after rounding
  };
  for (const DType dtype : {DType::kF16, DType::kBF16}) {
    for (size_t n = 1; n <= special.size(); n += 7) {
      ExpectSameBytes(table(), dtype, std::vector<float>(special.data(), special.data() + n));
    }
    ExpectSameBytes(table(), dtype, special);
  }
}

TEST_P(SimdTest, Q8QuantisersRoundExactHalvesAwayFromZero) {
  int n_ties = 0;
  const std::vector<float> x = Q8_0TieRow(/*n_blocks=*/129, 7, &n_ties);
  EXPECT_GT(n_ties, 129 * 31 / 2) << "the row has too few exact ties to test anything";
  ExpectSameBytes(table(), DType::kQ8_0, x);
  ExpectSameBytes(table(), DType::kQ8_1, x);  // the same block quantiser, and the levels' sum
  // The exact-scale blocks: spot-check the reference itself rounds 0.5 away (d = 1: x = q).
  std::vector<float> simple(32, 0.0f);
  simple[0] = 127.0f;
  simple[1] = 0.5f;
  simple[2] = -0.5f;
  simple[3] = 2.5f;
  simple[4] = -2.5f;
  ExpectSameBytes(table(), DType::kQ8_0, simple);
  std::vector<std::byte> q(static_cast<size_t>(*RowBytes(DType::kQ8_0, 32)));
  table().QuantizeRow(DType::kQ8_0)(simple.data(), q.data(), 32);
  const auto* qs = reinterpret_cast<const int8_t*>(q.data() + 2);
  EXPECT_EQ(qs[1], 1);
  EXPECT_EQ(qs[2], -1);
  EXPECT_EQ(qs[3], 3);
  EXPECT_EQ(qs[4], -3);
}

// Rows of 256-element super-blocks that stress the K-quant paths: a zero super-block, one with
// a single huge outlier, one with a tiny scale, and plain ones, cycling.
std::vector<float> AwkwardKRow(int64_t n, uint32_t seed) {
  std::vector<float> x = RandomFloats(n, seed);
  for (int64_t b = 0; b < n / 256; ++b) {
    float* blk = x.data() + b * 256;
    switch (b % 4) {
      case 0: std::fill(blk, blk + 256, 0.0f); break;
      case 1: blk[(b * 37) % 256] = (b % 8 == 1) ? 1e4f : -1e4f; break;
      case 2:
        for (int j = 0; j < 256; ++j) blk[j] *= 1e-6f;
        break;
      default: break;
    }
  }
  return x;
}

TEST_P(SimdTest, KQuantDotsMatchTheReferenceOnAwkwardRows) {
  const KernelTable& t = table();
  uint32_t seed = 500;
  for (const DType dtype : WeightTypes(t)) {
    const QuantOps* ops = FindQuantOps(dtype);
    if (ops->vec_dot_type != DType::kQ8_K || t.VecDot(dtype) == ops->vec_dot) continue;
    for (const int64_t n : {256, 768, 4096 + 256}) {
      SCOPED_TRACE(testing::Message() << DTypeName(dtype) << " n=" << n);
      const std::vector<std::byte> w = Quantize(dtype, AwkwardKRow(n, ++seed), n);
      // Shifted by one super-block, so zero and outlier blocks meet plain ones.
      std::vector<float> a = AwkwardKRow(n + 256, ++seed);
      a.erase(a.begin(), a.begin() + 256);
      const std::vector<std::byte> q8 = Quantize(DType::kQ8_K, a, n);
      const float want = ops->vec_dot(n, w.data(), q8.data());
      const float got = t.VecDot(dtype)(n, w.data(), q8.data());
      const double magnitude =
          Magnitude(Dequantize(dtype, w, n), Dequantize(DType::kQ8_K, q8, n), 0, 0, n);
      EXPECT_NEAR(got, want, kDotTol * magnitude) << "magnitude " << magnitude;
    }
  }
}

// Q8_K rounds iscale * x to nearest with ties to even (NearestInt), and takes its scale's sign
// from the first element of largest magnitude. Super-blocks with exact scales (max = +-127 *
// 2^k, so iscale = -+2^-k) and elements (m + 0.5) * 2^k land on exact ties; others put -amax
// and +amax in the same super-block in both orders.
TEST_P(SimdTest, Q8_KQuantiserRoundsTiesToEvenAndKeepsTheFirstMax) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> level(-127, 126);
  std::vector<float> x(static_cast<size_t>(12 * 256));
  for (int b = 0; b < 12; ++b) {
    float* blk = x.data() + static_cast<size_t>(b) * 256;
    const float unit = std::ldexp(1.0f, b % 6 - 3);
    for (int j = 0; j < 256; ++j) blk[j] = (static_cast<float>(level(rng)) + 0.5f) * unit;
    const float amax = 127.0f * unit;
    if (b < 6) {
      blk[(b * 53) % 256] = (b % 2 == 0) ? amax : -amax;
    } else {
      blk[static_cast<size_t>(b) * 5] = (b % 2 == 0) ? amax : -amax;
      blk[200 + b] = (b % 2 == 0) ? -amax : amax;
    }
  }
  ExpectSameBytes(table(), DType::kQ8_K, x);
  // Spot-check the ties themselves: max = -127 gives iscale = 1, so qs = round_even(x).
  std::vector<float> simple(256, 0.0f);
  simple[0] = -127.0f;
  simple[1] = 0.5f;
  simple[2] = 1.5f;
  simple[3] = 2.5f;
  simple[4] = -2.5f;
  ExpectSameBytes(table(), DType::kQ8_K, simple);
  std::vector<std::byte> q(static_cast<size_t>(*RowBytes(DType::kQ8_K, 256)));
  table().QuantizeRow(DType::kQ8_K)(simple.data(), q.data(), 256);
  const auto* qs = reinterpret_cast<const int8_t*>(q.data() + 4);
  EXPECT_EQ(qs[0], -127);
  EXPECT_EQ(qs[1], 0);
  EXPECT_EQ(qs[2], 2);
  EXPECT_EQ(qs[3], 2);
  EXPECT_EQ(qs[4], -2);
}

TEST_P(SimdTest, Q8_KQuantiserMatchesOnAwkwardRows) {
  for (const int64_t n : {256, 768, 4096 + 256}) {
    ExpectSameBytes(table(), DType::kQ8_K, AwkwardKRow(n, static_cast<uint32_t>(n)));
  }
  // Non-finite inputs: the reference skips NaN in its max search and rounds by bit tricks;
  // a body that reproduces it exactly writes the same bytes here too.
  std::vector<float> odd = RandomFloats(512, 3);
  odd[5] = NAN;
  odd[300] = INFINITY;
  odd[301] = -2.0f;
  ExpectSameBytes(table(), DType::kQ8_K, odd);
}

TEST_P(SimdTest, FastMatMulMatchesTheReferenceMatMul) {
  const KernelTable& t = table();
  constexpr int64_t kNOut = 37;
  ThreadPool pool(2);
  uint32_t seed = 1000;
  for (const DType dtype : WeightTypes(t)) {
    const QuantOps* ops = FindQuantOps(dtype);
    const bool inherited =
        t.VecDot(dtype) == ops->vec_dot &&
        t.QuantizeRow(ops->vec_dot_type) == FindQuantOps(ops->vec_dot_type)->quantize;
    const int64_t n_in = 9 * GetDTypeInfo(dtype).block_size;
    const std::vector<std::byte> w = Quantize(dtype, RandomFloats(kNOut * n_in, ++seed), n_in);
    const std::vector<float> w_deq = Dequantize(dtype, w, kNOut * n_in);
    const TensorView weight{.dtype = dtype, .shape = Shape{kNOut, n_in}, .bytes = w};
    for (const int64_t n_tokens : {1, 5}) {
      SCOPED_TRACE(testing::Message() << DTypeName(dtype) << " n_tokens=" << n_tokens);
      const std::vector<float> x = RandomFloats(n_tokens * n_in, ++seed, 0.5f);
      const std::vector<float> x_deq =
          Dequantize(ops->vec_dot_type, Quantize(ops->vec_dot_type, x, n_in), n_tokens * n_in);
      std::vector<float> want(static_cast<size_t>(n_tokens * kNOut), -1.0f);
      ASSERT_TRUE(dsinfer::MatMul(weight, x, n_tokens, want, nullptr).ok());
      std::vector<float> got(want.size(), -2.0f);
      ASSERT_TRUE(MatMul(weight, x, n_tokens, got, &pool, t).ok());
      for (int64_t tok = 0; tok < n_tokens; ++tok) {
        for (int64_t o = 0; o < kNOut; ++o) {
          const size_t i = static_cast<size_t>(tok * kNOut + o);
          if (inherited) {
            ASSERT_EQ(got[i], want[i]) << "t=" << tok << " o=" << o;
          } else {
            const double magnitude = Magnitude(w_deq, x_deq, static_cast<size_t>(o * n_in),
                                               static_cast<size_t>(tok * n_in), n_in);
            ASSERT_NEAR(got[i], want[i], kDotTol * magnitude) << "t=" << tok << " o=" << o;
          }
        }
      }
    }
  }
}

TEST_P(SimdTest, FastMatMulRejectsWhatTheReferenceRejects) {
  const std::vector<std::byte> w(static_cast<size_t>(*RowBytes(DType::kQ8_0, 64) * 3));
  const TensorView weight{.dtype = DType::kQ8_0, .shape = Shape{3, 64}, .bytes = w};
  std::vector<float> x(128);  // 2 tokens x 64
  std::vector<float> y(6);    // 2 tokens x 3
  EXPECT_TRUE(MatMul(weight, x, 2, y, nullptr, table()).ok());
  EXPECT_FALSE(MatMul(weight, x, 3, y, nullptr, table()).ok());  // x too short
  std::vector<float> y_short(5);
  EXPECT_FALSE(MatMul(weight, x, 2, y_short, nullptr, table()).ok());
  const TensorView act{.dtype = DType::kQ8_K,
                       .shape = Shape{1, 256},
                       .bytes = std::span<const std::byte>(w).first(292)};
  std::vector<float> x256(256);
  std::vector<float> y1(1);
  EXPECT_EQ(MatMul(act, x256, 1, y1, nullptr, table()).code(), StatusCode::kUnimplemented);
}

INSTANTIATE_TEST_SUITE_P(EveryLevelOfThisCpu, SimdTest, ::testing::ValuesIn(MachineLevels()),
                         LevelName);

TEST(IsaSelection, DsinferIsaForcesALevelUpToTheBestOne) {
  CpuFeatures avx2;
  avx2.avx2 = avx2.fma = avx2.f16c = true;
  EXPECT_EQ(*ResolveIsa(avx2, ""), Isa::kAvx2);
  EXPECT_EQ(*ResolveIsa(avx2, "scalar"), Isa::kScalar);
  EXPECT_EQ(*ResolveIsa(avx2, "avx2"), Isa::kAvx2);
  EXPECT_EQ(ResolveIsa(avx2, "avx512").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ResolveIsa(avx2, "avx-512").status().code(), StatusCode::kInvalidArgument);

  CpuFeatures avx512 = avx2;
  avx512.avx512f = avx512.avx512bw = avx512.avx512vl = avx512.avx512dq = true;
  EXPECT_EQ(*ResolveIsa(avx512, ""), Isa::kAvx2) << "no VNNI: not the avx512 level";
  avx512.avx512_vnni = true;
  EXPECT_EQ(*ResolveIsa(avx512, ""), Isa::kAvx512);
  EXPECT_EQ(*ResolveIsa(avx512, "avx2"), Isa::kAvx2);
  EXPECT_EQ(ResolveIsa(avx512, "amx").status().code(), StatusCode::kFailedPrecondition);
}

TEST(IsaSelection, KernelsIsTheTableOfTheSelectedLevel) {
  const StatusOr<Isa> selected = SelectedIsa();
  const Isa want = selected.ok() ? *selected : BestIsa(GetCpuFeatures());
  EXPECT_EQ(Kernels().isa, want);
  EXPECT_EQ(&Kernels(), &KernelsFor(want));
}

}  // namespace
}  // namespace dsinfer::kernels
