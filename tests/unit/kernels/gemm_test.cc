// The blocked gemm entries (KernelTable::gemm: prefill and MoE expert batches) of every kernel
// table this CPU can run, against the scalar reference vec_dot of each (row, token) pair on the
// same quantised inputs, at shapes whose rows and tokens leave ragged tails for every tile
// size in use (4x4 and 2x4 register tiles, 16x16 and 32x32 AMX tiles), and through MatMul on a
// 2-thread pool, whose row chunks (multiples of 16) put the tails inside one thread's share.
// On an AMX machine the amx level is among MachineLevels(), so its tile bodies run here too.
//
// Tolerances (each relative to magnitude = sum_i |w_i * a_i| of the dequantised operands):
// - Q8_0 / Q4_0 (Q8_0 activations), Q4_K / Q6_K (Q8_K activations): the block integer sums
//   are exact, only the float accumulation order of the scaled block sums differs, as for
//   the SIMD vec_dots:
//   kDotTol = 1e-6 (kernel_test_util.h).
// - IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M: the bodies keep the reference's integer
// block sums and float steps,
//   so each output is the reference's value exactly (tolerance 0).
// - BF16, F16: every product of two BF16 or two F16 values is exact in float; the reference
//   sums them in double, the bodies in float lanes. Recursive float summation of terms whose
//   longest chain is `depth` additions is off by at most depth * 2^-24 * sum |p_i| (first order).
//   Depth: avx2 (BF16 and F16) and avx512 F16 n_in / 8 lane steps + 3 lane reductions + <= 15
//   scalar tail terms; avx512 BF16 n_in / 16 + 4; TDPBF16PS adds the products of a C element one
//   after another, n_in deep. Hence (n_in / 8 + 32) * 2^-24 for the SIMD levels and (n_in + 32) *
//   2^-24 for amx.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/reference/matmul.h"
#include "platform/cpu_features.h"
#include "platform/thread_pool.h"
#include "quant/quant_ops.h"

namespace dsinfer::kernels {
namespace {

constexpr double kUnitRoundoff = 0x1p-24;

// `rows` rows of n_in random values stored as `dtype`, and their dequantised values.
struct Stored {
  std::vector<std::byte> bytes;
  std::vector<float> values;
  int64_t row_bytes = 0;
};

// (Quantize gives the types dsinfer only reads random codes of the same spread.)
Stored Store(DType dtype, int64_t rows, int64_t n_in, uint32_t seed, float scale) {
  Stored s;
  s.row_bytes = *RowBytes(dtype, n_in);
  const std::vector<float> x = RandomFloats(rows * n_in, seed, scale);
  s.bytes = Quantize(dtype, x, n_in);
  s.values.resize(x.size());
  EXPECT_TRUE(DequantizeRows(dtype, s.bytes, n_in, s.values).ok()) << DTypeName(dtype);
  return s;
}

// |got - want| bound for one output, per the header comment.
double Tolerance(Isa isa, DType weight, int64_t n_in, const float* w, const float* a) {
  if (FindQuantOps(weight)->quantize == nullptr) return 0.0;  // the IQ bodies: the same bits
  double magnitude = 0.0;
  for (int64_t i = 0; i < n_in; ++i) magnitude += std::fabs(static_cast<double>(w[i]) * a[i]);
  if (weight != DType::kBF16 && weight != DType::kF16) return kDotTol * magnitude;
  const double depth =
      isa == Isa::kAmx ? static_cast<double>(n_in) + 32 : static_cast<double>(n_in) / 8 + 32;
  return depth * kUnitRoundoff * magnitude;
}

std::vector<DType> GemmTypes(const KernelTable& t) {
  std::vector<DType> out;
  for (const DTypeInfo& info : AllDTypes()) {
    if (t.Gemm(info.dtype) != nullptr) out.push_back(info.dtype);
  }
  return out;
}

// Row lengths: one block, an odd number of blocks, and 4096 + one block; BF16 and F16 (block
// size 1) add lengths that leave every SIMD and tile step ragged.
std::vector<int64_t> Lengths(DType dtype) {
  if (GetDTypeInfo(dtype).block_size == 1) return {1, 15, 33, 100, 4096 + 35};
  const int64_t bs = GetDTypeInfo(dtype).block_size;
  return {bs, 3 * bs, 4096 + bs};
}

struct Shape2 {
  int64_t n_rows;
  int64_t n_tokens;
};

// Rows x tokens: below, at and past every tile size in use.
constexpr Shape2 kShapes[] = {{1, 2},  {3, 5},   {4, 4},   {17, 3},
                              {5, 17}, {16, 16}, {33, 31}, {37, 33}};

class GemmTest : public ::testing::TestWithParam<Isa> {
 protected:
  const KernelTable& table() const { return KernelsFor(GetParam()); }
};

TEST_P(GemmTest, HigherLevelsHaveGemmBodiesForTheMainPrefillTypes) {
  const KernelTable& t = table();
  if (GetParam() == Isa::kScalar) {
    for (const DTypeInfo& info : AllDTypes()) EXPECT_EQ(t.Gemm(info.dtype), nullptr) << info.name;
  } else {
    for (const DType dtype : {DType::kQ8_0, DType::kQ4_0, DType::kBF16, DType::kF16, DType::kQ4_K,
                              DType::kQ6_K, DType::kIQ2_XXS, DType::kIQ2_XS, DType::kIQ2_S,
                              DType::kIQ3_XXS, DType::kIQ3_S, DType::kIQ1_S, DType::kIQ1_M}) {
      EXPECT_NE(t.Gemm(dtype), nullptr) << DTypeName(dtype);
    }
  }
  if (GetParam() == Isa::kAmx) {
    // The tile bodies, not avx512's inherited ones.
    const KernelTable& below = KernelsFor(Isa::kAvx512);
    EXPECT_NE(t.Gemm(DType::kQ8_0), below.Gemm(DType::kQ8_0));
    EXPECT_NE(t.Gemm(DType::kBF16), below.Gemm(DType::kBF16));
  }
}

TEST_P(GemmTest, GemmMatchesTheReferenceDotOfEveryPair) {
  const KernelTable& t = table();
  if (GemmTypes(t).empty()) GTEST_SKIP() << "no gemm bodies at this level";
  uint32_t seed = 7;
  for (const DType dtype : GemmTypes(t)) {
    const QuantOps* ops = FindQuantOps(dtype);
    for (const int64_t n_in : Lengths(dtype)) {
      for (const Shape2& shape : kShapes) {
        SCOPED_TRACE(testing::Message() << DTypeName(dtype) << " n_in=" << n_in << " rows="
                                        << shape.n_rows << " tokens=" << shape.n_tokens);
        const Stored w = Store(dtype, shape.n_rows, n_in, ++seed, 1.0f);
        const Stored a = Store(ops->vec_dot_type, shape.n_tokens, n_in, ++seed, 0.5f);
        // Outputs in a wider matrix, to catch writes outside [n_tokens, n_rows].
        const int64_t ldy = shape.n_rows + 3;
        constexpr float kUntouched = -12345.0f;
        std::vector<float> y(static_cast<size_t>(shape.n_tokens * ldy), kUntouched);
        t.Gemm(dtype)(n_in, w.bytes.data(), w.row_bytes, shape.n_rows, a.bytes.data(), a.row_bytes,
                      shape.n_tokens, y.data(), ldy);
        for (int64_t tok = 0; tok < shape.n_tokens; ++tok) {
          for (int64_t r = 0; r < ldy; ++r) {
            const float got = y[static_cast<size_t>(tok * ldy + r)];
            if (r >= shape.n_rows) {
              ASSERT_EQ(got, kUntouched) << "wrote outside: t=" << tok << " r=" << r;
              continue;
            }
            const float want = ops->vec_dot(n_in, w.bytes.data() + r * w.row_bytes,
                                            a.bytes.data() + tok * a.row_bytes);
            const double tol = Tolerance(GetParam(), dtype, n_in, w.values.data() + r * n_in,
                                         a.values.data() + tok * n_in);
            ASSERT_NEAR(got, want, tol) << "t=" << tok << " r=" << r;
            if (tol == 0.0) {
              ASSERT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want))
                  << "t=" << tok << " r=" << r;
            }
          }
        }
      }
    }
  }
}

TEST_P(GemmTest, MultiTokenMatMulOnTwoThreadsMatchesTheReference) {
  const KernelTable& t = table();
  if (GemmTypes(t).empty()) GTEST_SKIP() << "no gemm bodies at this level";
  ThreadPool pool(2);
  uint32_t seed = 900;
  for (const DType dtype : GemmTypes(t)) {
    const QuantOps* ops = FindQuantOps(dtype);
    const int64_t bs = GetDTypeInfo(dtype).block_size;
    const int64_t n_in = bs == 1 ? 300 : 9 * bs;
    for (const Shape2 shape : {Shape2{53, 2}, Shape2{53, 7}, Shape2{37, 33}, Shape2{64, 48}}) {
      SCOPED_TRACE(testing::Message()
                   << DTypeName(dtype) << " rows=" << shape.n_rows << " tokens=" << shape.n_tokens);
      const Stored w = Store(dtype, shape.n_rows, n_in, ++seed, 1.0f);
      const TensorView weight{.dtype = dtype, .shape = Shape{shape.n_rows, n_in}, .bytes = w.bytes};
      const std::vector<float> x = RandomFloats(shape.n_tokens * n_in, ++seed, 0.5f);
      // The activations as MatMul will quantise them, for the tolerance.
      std::vector<std::byte> xq(
          static_cast<size_t>(shape.n_tokens * *RowBytes(ops->vec_dot_type, n_in)));
      ASSERT_TRUE(QuantizeRows(ops->vec_dot_type, x, n_in, xq).ok());
      std::vector<float> x_deq(x.size());
      ASSERT_TRUE(DequantizeRows(ops->vec_dot_type, xq, n_in, x_deq).ok());

      const size_t n_out = static_cast<size_t>(shape.n_tokens * shape.n_rows);
      std::vector<float> want(n_out, -1.0f);
      ASSERT_TRUE(dsinfer::MatMul(weight, x, shape.n_tokens, want, nullptr).ok());
      std::vector<float> got(n_out, -2.0f);
      ASSERT_TRUE(MatMul(weight, x, shape.n_tokens, got, &pool, t).ok());
      for (int64_t tok = 0; tok < shape.n_tokens; ++tok) {
        for (int64_t r = 0; r < shape.n_rows; ++r) {
          const size_t i = static_cast<size_t>(tok * shape.n_rows + r);
          const double tol = Tolerance(GetParam(), dtype, n_in, w.values.data() + r * n_in,
                                       x_deq.data() + tok * n_in);
          ASSERT_NEAR(got[i], want[i], tol) << "t=" << tok << " r=" << r;
          if (tol == 0.0) {
            ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i]))
                << "t=" << tok << " r=" << r;
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryLevelOfThisCpu, GemmTest, ::testing::ValuesIn(MachineLevels()),
                         LevelName);

}  // namespace
}  // namespace dsinfer::kernels
