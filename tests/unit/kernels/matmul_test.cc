// Reference MatMul / MatMulRows / EmbeddingLookup against plain double-precision dots over
// the dequantised operands, for every weight dtype of the quant table, at awkward sizes, with
// and without a thread pool.
#include "kernels/reference/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "platform/thread_pool.h"
#include "quant/quant_ops.h"

namespace dsinfer {
namespace {

using kernels::RandomFloats;

// A rows x n_in matrix of random floats stored as `dtype`, and its dequantised values.
struct StoredMatrix {
  std::vector<std::byte> bytes;
  std::vector<float> dequantised;  // [rows, n_in]
};

StoredMatrix Store(DType dtype, const std::vector<float>& values, int64_t n_in) {
  StoredMatrix m;
  const auto rows = static_cast<int64_t>(values.size()) / n_in;
  m.bytes.resize(static_cast<size_t>(rows * *RowBytes(dtype, n_in)));
  EXPECT_TRUE(QuantizeRows(dtype, values, n_in, m.bytes).ok()) << DTypeName(dtype);
  m.dequantised.resize(values.size());
  EXPECT_TRUE(DequantizeRows(dtype, m.bytes, n_in, m.dequantised).ok()) << DTypeName(dtype);
  return m;
}

struct Dot {
  double value = 0.0;
  double magnitude = 0.0;  // sum of |products|: what rounding errors of a dot scale with
};

Dot DoubleDot(const float* a, const float* b, int64_t n) {
  Dot d;
  for (int64_t i = 0; i < n; ++i) {
    const double p = static_cast<double>(a[i]) * b[i];
    d.value += p;
    d.magnitude += std::fabs(p);
  }
  return d;
}

struct Case {
  DType dtype;
  int64_t n_in;  // a multiple of the block, not of 8 blocks (nor of 8 for the float types)
  // |y - dot(dequantised w, dequantised q(x))| <= kernel_tol * magnitude: only the vec_dot's
  // own rounding (block scales multiplied in float; Q8_1's block sum stored as fp16).
  double kernel_tol;
  // |y - dot(dequantised w, x)| <= activation_tol * magnitude: adds the error of converting x
  // to vec_dot_type (F16: 2^-11 per element, BF16: 2^-9, Q8_*: half a step of amax/127).
  double activation_tol;
};

void PrintTo(const Case& c, std::ostream* os) { *os << DTypeName(c.dtype); }

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return std::string(DTypeName(info.param.dtype));
}

constexpr int64_t kNOut = 37;

class MatMulTest : public ::testing::TestWithParam<Case> {};

TEST_P(MatMulTest, MatchesDoubleDotOfDequantisedOperands) {
  const Case c = GetParam();
  const QuantOps* ops = FindQuantOps(c.dtype);
  ASSERT_NE(ops, nullptr);
  const StoredMatrix w = Store(c.dtype, RandomFloats(kNOut * c.n_in, 11), c.n_in);
  const TensorView weight{.dtype = c.dtype, .shape = Shape{kNOut, c.n_in}, .bytes = w.bytes};
  ThreadPool pool(3);
  for (const int64_t n_tokens : {1, 5}) {
    SCOPED_TRACE(testing::Message() << "n_tokens=" << n_tokens);
    const std::vector<float> x = RandomFloats(n_tokens * c.n_in, 100 + n_tokens, 0.5f);
    const StoredMatrix xq = Store(ops->vec_dot_type, x, c.n_in);

    std::vector<float> y(static_cast<size_t>(n_tokens * kNOut), -1.0f);
    ASSERT_TRUE(MatMul(weight, x, n_tokens, y, nullptr).ok());
    std::vector<float> y_pool(y.size(), -2.0f);
    ASSERT_TRUE(MatMul(weight, x, n_tokens, y_pool, &pool).ok());
    EXPECT_EQ(y, y_pool) << "the pool changed the result";

    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t o = 0; o < kNOut; ++o) {
        const float got = y[static_cast<size_t>(t * kNOut + o)];
        const float* w_row = w.dequantised.data() + o * c.n_in;
        const Dot exact = DoubleDot(w_row, xq.dequantised.data() + t * c.n_in, c.n_in);
        EXPECT_NEAR(got, exact.value, c.kernel_tol * exact.magnitude + 1e-6)
            << "t=" << t << " o=" << o;
        const Dot raw = DoubleDot(w_row, x.data() + t * c.n_in, c.n_in);
        EXPECT_NEAR(got, raw.value, c.activation_tol * raw.magnitude + 1e-6)
            << "t=" << t << " o=" << o;
      }
    }
  }
}

TEST_P(MatMulTest, RowsOfAStackedTensorEqualTheFullProduct) {
  // Three "experts" [3, kNOut, n_in]: MatMulRows on expert 1 equals rows kNOut..2*kNOut-1 of
  // MatMul over the same bytes viewed as [3 * kNOut, n_in].
  const Case c = GetParam();
  const StoredMatrix w = Store(c.dtype, RandomFloats(3 * kNOut * c.n_in, 12), c.n_in);
  const TensorView stacked{.dtype = c.dtype, .shape = Shape{3, kNOut, c.n_in}, .bytes = w.bytes};
  const TensorView flat{.dtype = c.dtype, .shape = Shape{3 * kNOut, c.n_in}, .bytes = w.bytes};
  const int64_t n_tokens = 5;
  const std::vector<float> x = RandomFloats(n_tokens * c.n_in, 13);
  std::vector<float> full(static_cast<size_t>(n_tokens * 3 * kNOut));
  ASSERT_TRUE(MatMul(flat, x, n_tokens, full, nullptr).ok());
  ThreadPool pool(3);
  std::vector<float> expert(static_cast<size_t>(n_tokens * kNOut));
  ASSERT_TRUE(MatMulRows(stacked, kNOut, kNOut, x, n_tokens, expert, &pool).ok());
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t o = 0; o < kNOut; ++o) {
      ASSERT_EQ(expert[static_cast<size_t>(t * kNOut + o)],
                full[static_cast<size_t>(t * 3 * kNOut + kNOut + o)])
          << "t=" << t << " o=" << o;
    }
  }
}

TEST_P(MatMulTest, EmbeddingLookupReturnsTheDequantisedRows) {
  const Case c = GetParam();
  const int64_t vocab = 23;
  const StoredMatrix table = Store(c.dtype, RandomFloats(vocab * c.n_in, 14), c.n_in);
  const TensorView view{.dtype = c.dtype, .shape = Shape{vocab, c.n_in}, .bytes = table.bytes};
  const std::vector<int32_t> ids = {7, 0, 22, 7, 13};
  std::vector<float> out(ids.size() * static_cast<size_t>(c.n_in));
  ASSERT_TRUE(EmbeddingLookup(view, ids, out).ok());
  for (size_t i = 0; i < ids.size(); ++i) {
    for (int64_t j = 0; j < c.n_in; ++j) {
      ASSERT_EQ(out[i * static_cast<size_t>(c.n_in) + static_cast<size_t>(j)],
                table.dequantised[static_cast<size_t>(ids[i] * c.n_in + j)])
          << "i=" << i << " j=" << j;
    }
  }
}

// 32-element blocks: 11 blocks; K-quants (256): 3 blocks; float types: 131 elements.
// Largest ratios seen over 20 seeds (error / magnitude): kernel ~8e-8 (Q4_1/Q5_1: 2.3e-4, the
// fp16 block sum); activation F16 1.0e-4, BF16 7.9e-4, Q8_* 1.8e-3.
INSTANTIATE_TEST_SUITE_P(
    AllWeightTypes, MatMulTest,
    ::testing::Values(Case{DType::kF32, 131, 1e-6, 1e-6}, Case{DType::kF16, 131, 1e-6, 5e-4},
                      Case{DType::kBF16, 131, 1e-6, 2.5e-3}, Case{DType::kQ4_0, 352, 1e-6, 5e-3},
                      Case{DType::kQ4_1, 352, 1e-3, 5e-3}, Case{DType::kQ5_0, 352, 1e-6, 5e-3},
                      Case{DType::kQ5_1, 352, 1e-3, 5e-3}, Case{DType::kQ8_0, 352, 1e-6, 5e-3},
                      Case{DType::kIQ4_NL, 352, 1e-6, 5e-3}, Case{DType::kQ2_K, 768, 1e-6, 5e-3},
                      Case{DType::kQ3_K, 768, 1e-6, 5e-3}, Case{DType::kQ4_K, 768, 1e-6, 5e-3},
                      Case{DType::kQ5_K, 768, 1e-6, 5e-3}, Case{DType::kQ6_K, 768, 1e-6, 5e-3}),
    CaseName);

// ---- size and value checks at the boundary ----

class MatMulErrorsTest : public ::testing::Test {
 protected:
  const int64_t n_in_ = 64;
  const StoredMatrix w_ = Store(DType::kQ8_0, RandomFloats(4 * n_in_, 15), n_in_);
  const TensorView weight_{.dtype = DType::kQ8_0, .shape = Shape{4, n_in_}, .bytes = w_.bytes};
  const std::vector<float> x_ = RandomFloats(2 * n_in_, 16);
};

TEST_F(MatMulErrorsTest, RejectsMismatchedSizes) {
  std::vector<float> y(8);
  EXPECT_TRUE(MatMul(weight_, x_, 2, y, nullptr).ok());
  EXPECT_EQ(MatMul(weight_, x_, 3, y, nullptr).code(), StatusCode::kInvalidArgument);
  std::vector<float> y_short(7);
  EXPECT_EQ(MatMul(weight_, x_, 2, y_short, nullptr).code(), StatusCode::kInvalidArgument);
  std::vector<float> x_odd(x_.begin(), x_.end() - 1);
  EXPECT_EQ(MatMul(weight_, x_odd, 2, y, nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MatMul(weight_, x_, -1, y, nullptr).code(), StatusCode::kInvalidArgument);
  TensorView truncated = weight_;
  truncated.bytes = truncated.bytes.first(truncated.bytes.size() - 1);
  EXPECT_EQ(MatMul(truncated, x_, 2, y, nullptr).code(), StatusCode::kInvalidArgument);
}

TEST_F(MatMulErrorsTest, RejectsRowsOutsideTheWeight) {
  std::vector<float> y(4);
  EXPECT_TRUE(MatMulRows(weight_, 2, 2, x_, 2, y, nullptr).ok());
  EXPECT_EQ(MatMulRows(weight_, 3, 2, x_, 2, y, nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MatMulRows(weight_, -1, 2, x_, 2, y, nullptr).code(), StatusCode::kInvalidArgument);
}

TEST_F(MatMulErrorsTest, RejectsRank3WeightAndActivationTypes) {
  const TensorView rank3{.dtype = DType::kQ8_0, .shape = Shape{2, 2, n_in_}, .bytes = w_.bytes};
  std::vector<float> y(8);
  EXPECT_EQ(MatMul(rank3, x_, 2, y, nullptr).code(), StatusCode::kInvalidArgument);
  const std::vector<std::byte> q8k(static_cast<size_t>(*RowBytes(DType::kQ8_K, 256)));
  const TensorView act{.dtype = DType::kQ8_K, .shape = Shape{1, 256}, .bytes = q8k};
  const std::vector<float> x(256, 1.0f);
  std::vector<float> y1(1);
  EXPECT_EQ(MatMul(act, x, 1, y1, nullptr).code(), StatusCode::kUnimplemented);
}

TEST_F(MatMulErrorsTest, ZeroTokensIsANoOp) {
  EXPECT_TRUE(MatMul(weight_, {}, 0, {}, nullptr).ok());
}

TEST_F(MatMulErrorsTest, EmbeddingRejectsIdsOutsideTheVocabulary) {
  std::vector<float> out(2 * static_cast<size_t>(n_in_));
  for (const int32_t bad : {4, -1}) {
    const std::vector<int32_t> ids = {1, bad};
    const Status s = EmbeddingLookup(weight_, ids, out);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("token id " + std::to_string(bad) + " at position 1"),
              std::string::npos)
        << s.ToString();
  }
  const std::vector<int32_t> ids = {1, 2};
  std::vector<float> short_out(out.size() - 1);
  EXPECT_EQ(EmbeddingLookup(weight_, ids, short_out).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dsinfer
