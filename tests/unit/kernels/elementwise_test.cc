// Reference RmsNorm / Softmax / SiluMul / Add / Scale against double-precision formulas on
// random data, with the tolerances stated next to each check.
#include "kernels/reference/elementwise.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernel_test_util.h"

namespace dsinfer {
namespace {

using kernels::RandomFloats;

// Float math with a few roundings per element (exp, divide, multiply): 1e-5 relative is
// about 80 float ulps, far above what these ops lose and far below any real bug.
constexpr double kRelTol = 1e-5;

TEST(RmsNormTest, MatchesDoubleFormula) {
  for (const size_t dim : {size_t{1}, size_t{37}, size_t{7168}}) {
    const size_t rows = 5;
    const std::vector<float> x = RandomFloats(rows * dim, 1, 3.0f);
    std::vector<float> weight = RandomFloats(dim, 2);
    for (float& w : weight) w += 1.0f;
    const float eps = 1e-6f;
    std::vector<float> out(x.size());
    ASSERT_TRUE(RmsNorm(x, weight, eps, out).ok());
    for (size_t r = 0; r < rows; ++r) {
      double sum_sq = 0.0;
      for (size_t j = 0; j < dim; ++j)
        sum_sq += static_cast<double>(x[r * dim + j]) * x[r * dim + j];
      const double inv_rms = 1.0 / std::sqrt(sum_sq / static_cast<double>(dim) + eps);
      for (size_t j = 0; j < dim; ++j) {
        const double want = weight[j] * (x[r * dim + j] * inv_rms);
        ASSERT_NEAR(out[r * dim + j], want, kRelTol * std::fabs(want))
            << dim << " " << r << " " << j;
      }
    }
    std::vector<float> in_place = x;
    ASSERT_TRUE(RmsNorm(in_place, weight, eps, in_place).ok());
    EXPECT_EQ(in_place, out) << "in place differs, dim=" << dim;
  }
}

TEST(RmsNormTest, RejectsBadSizes) {
  const std::vector<float> x(10, 1.0f), w3(3, 1.0f), w5(5, 1.0f);
  std::vector<float> out(10), out9(9);
  EXPECT_EQ(RmsNorm(x, w3, 1e-6f, out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RmsNorm(x, w5, 1e-6f, out9).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RmsNorm(x, {}, 1e-6f, out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RmsNorm(x, w5, 0.0f, out).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(RmsNorm(x, w5, 1e-6f, out).ok());
}

TEST(SoftmaxTest, MatchesDoubleFormula) {
  const int64_t cols = 131;
  const size_t rows = 7;
  const std::vector<float> x = RandomFloats(rows * cols, 3, 4.0f);
  std::vector<float> out(x.size());
  ASSERT_TRUE(Softmax(x, cols, out).ok());
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x.data() + r * cols;
    double sum = 0.0;
    for (int64_t j = 0; j < cols; ++j) sum += std::exp(static_cast<double>(xr[j]));
    for (int64_t j = 0; j < cols; ++j) {
      const double want = std::exp(static_cast<double>(xr[j])) / sum;
      ASSERT_NEAR(out[r * cols + j], want, kRelTol * want) << r << " " << j;
    }
  }
  std::vector<float> in_place = x;
  ASSERT_TRUE(Softmax(in_place, cols, in_place).ok());
  EXPECT_EQ(in_place, out);
}

TEST(SoftmaxTest, LargeInputsStayFiniteAndSumToOne) {
  const int64_t cols = 50;
  std::vector<float> x = RandomFloats(3 * cols, 4, 1e4f);
  float row0_max = x[0];
  for (int64_t j = 1; j < cols; ++j) row0_max = std::fmax(row0_max, x[j]);
  x[7] = row0_max + 100.0f;  // row 0 has one dominant logit
  x[cols + 3] = -1e4f;
  std::vector<float> out(x.size());
  ASSERT_TRUE(Softmax(x, cols, out).ok());
  for (size_t r = 0; r < 3; ++r) {
    double sum = 0.0;
    for (int64_t j = 0; j < cols; ++j) {
      const float p = out[r * cols + j];
      ASSERT_TRUE(std::isfinite(p) && p >= 0.0f && p <= 1.0f) << r << " " << j << " " << p;
      sum += p;
    }
    EXPECT_NEAR(sum, 1.0, 1e-6) << "row " << r;
  }
  EXPECT_FLOAT_EQ(out[7], 1.0f);  // every other logit of row 0 is >= 100 below it
}

TEST(SoftmaxTest, MaskedRowsAndBadSizes) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> out(4);
  const std::vector<float> half_masked = {-inf, 0.5f, -inf, 0.5f};
  ASSERT_TRUE(Softmax(half_masked, 4, out).ok());
  EXPECT_EQ(out, (std::vector<float>{0.0f, 0.5f, 0.0f, 0.5f}));
  const std::vector<float> all_masked = {1.0f, 2.0f, -inf, -inf};
  EXPECT_EQ(Softmax(all_masked, 2, out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Softmax(half_masked, 3, out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Softmax(half_masked, 0, out).code(), StatusCode::kInvalidArgument);
}

TEST(SiluMulTest, MatchesDoubleFormula) {
  std::vector<float> gate = RandomFloats(1001, 5, 4.0f);
  gate[0] = -100.0f;  // e^100 overflows float: silu -> -0, not NaN
  gate[1] = 100.0f;
  gate[2] = -87.0f;
  const std::vector<float> up = RandomFloats(gate.size(), 6);
  std::vector<float> out(gate.size());
  ASSERT_TRUE(SiluMul(gate, up, out).ok());
  for (size_t i = 0; i < gate.size(); ++i) {
    const double z = gate[i];
    const double want = z / (1.0 + std::exp(-z)) * up[i];
    ASSERT_NEAR(out[i], want, kRelTol * std::fabs(want) + 1e-30) << i << " z=" << z;
  }
  std::vector<float> in_place = gate;
  ASSERT_TRUE(SiluMul(in_place, up, in_place).ok());
  EXPECT_EQ(in_place, out);
  std::vector<float> short_out(out.size() - 1);
  EXPECT_EQ(SiluMul(gate, up, short_out).code(), StatusCode::kInvalidArgument);
}

TEST(AddScaleTest, ExactAndInPlace) {
  const std::vector<float> a = RandomFloats(333, 7), b = RandomFloats(333, 8);
  std::vector<float> sum(a.size()), scaled(a.size());
  ASSERT_TRUE(Add(a, b, sum).ok());
  ASSERT_TRUE(Scale(a, 0.125f, scaled).ok());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(sum[i], a[i] + b[i]) << i;
    ASSERT_EQ(scaled[i], a[i] * 0.125f) << i;
  }
  std::vector<float> residual = a;  // h = x + f(x), accumulated in place
  ASSERT_TRUE(Add(residual, b, residual).ok());
  EXPECT_EQ(residual, sum);
  ASSERT_TRUE(Scale(residual, 2.0f, residual).ok());
  EXPECT_EQ(residual[3], sum[3] * 2.0f);
  std::vector<float> short_out(a.size() - 1);
  EXPECT_EQ(Add(a, b, short_out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Scale(a, 2.0f, short_out).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dsinfer
