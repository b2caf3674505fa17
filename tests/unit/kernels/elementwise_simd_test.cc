// Every entry of every ElementwiseTable this CPU can run (scalar, avx2, avx512, ...) against the
// scalar references of reference/elementwise.h, on random rows of awkward lengths (1, 7, 129,
// n + 3: every vector tail), in place and not, with and without a thread pool; and the error
// paths, which must be the reference's Status, message included.
//
// Tolerances, in ulps of the reference's value (u = 2^-23 relative):
//   exp      1.25 u of the exact e^x (measured worst 1.01 u; scalar level: libm's 0.5 u)
//   RmsNorm  2 u: the double sum of squares is exact per product and differs only in order, which
//            can flip mean(x^2)'s rounding to float, moving inv_rms by 1 u and the output by 2 u
//   Softmax  5 u: e^(x - max) differs by <= 1.01 + 0.5 u (both exps), the double denominator by
//            the same relative amount, and two float roundings of each side follow
//   SiluMul  5 u: the same exp difference, then the +1, divide and multiply roundings of each side
//   Add, Scale  exact: one IEEE operation per element on every level
// plus, for softmax and silu, an absolute 2^-126 (FLT_MIN) where a result lies in or next to the
// subnormal range, where relative error is meaningless.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/elementwise.h"
#include "kernels/reference/elementwise.h"
#include "platform/cpu_features.h"
#include "platform/thread_pool.h"

namespace dsinfer::kernels {
namespace {

constexpr double kUlp = 0x1p-23;
constexpr double kExpTolUlps = 1.25;
constexpr double kRmsNormRelTol = 2 * kUlp;
constexpr double kSoftmaxRelTol = 5 * kUlp;
constexpr double kSiluRelTol = 5 * kUlp;
constexpr double kSubnormalAbsTol = 0x1p-126;

constexpr float kInf = std::numeric_limits<float>::infinity();

// Row lengths that leave every possible tail for 8- and 16-lane bodies, and a model-sized one.
constexpr size_t kAwkwardDims[] = {1, 7, 15, 17, 129, 7168 + 3};

// |got - want| within rel_tol * |want| + abs_tol, NaN only where want is NaN.
::testing::AssertionResult Near(float got, float want, double rel_tol, double abs_tol) {
  if (std::isnan(want) && std::isnan(got)) return ::testing::AssertionSuccess();
  const double diff = std::fabs(static_cast<double>(got) - want);
  if (diff <= rel_tol * std::fabs(want) + abs_tol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << got << ", want " << want << " (off by "
                                       << diff / (kUlp * std::fabs(want)) << " ulp)";
}

class ElementwiseSimdTest : public ::testing::TestWithParam<Isa> {
 protected:
  const ElementwiseTable& table() const { return ElementwiseFor(GetParam()); }
};

TEST_P(ElementwiseSimdTest, TableIsOfItsLevelAndComplete) {
  const ElementwiseTable& t = table();
  EXPECT_EQ(t.isa, GetParam());
  EXPECT_NE(t.exp, nullptr);
  EXPECT_NE(t.rms_norm_row, nullptr);
  EXPECT_NE(t.row_max, nullptr);
  EXPECT_NE(t.exp_sub_sum, nullptr);
  EXPECT_NE(t.silu_mul, nullptr);
  EXPECT_NE(t.add, nullptr);
  EXPECT_NE(t.scale, nullptr);
}

// 4M points over the whole normal-result range, against double exp.
TEST_P(ElementwiseSimdTest, ExpErrorBoundOverTheWholeRange) {
  std::vector<float> x;
  for (int64_t i = 0; i <= 4'000'000; ++i)
    x.push_back(-87.3f + 176.0f * static_cast<float>(i) / 4e6f);
  std::vector<float> y(x.size());
  table().exp(x.data(), y.data(), static_cast<int64_t>(x.size()));
  double worst = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(static_cast<double>(x[i]));
    const double ulps = std::fabs(y[i] - want) / std::ldexp(1.0, std::ilogb(want) - 23);
    worst = std::max(worst, ulps);
    ASSERT_LE(ulps, kExpTolUlps) << "x=" << x[i] << " got " << y[i] << " want " << want;
  }
  EXPECT_GT(worst, 0.0);  // the sweep did compare something

  // Subnormal results round to within one subnormal step; the edges and specials are exact.
  for (int i = 0; i < 1650; ++i) {
    const float v = -103.9f + 0.01f * static_cast<float>(i);
    float got = 0.0f;
    table().exp(&v, &got, 1);
    ASSERT_LE(std::fabs(got - std::exp(static_cast<double>(v))), 0x1p-149) << v;
  }
  const float specials[] = {-kInf, -200.0f, 0.0f, -0.0f, 89.0f, 1000.0f, kInf};
  const float expected[] = {0.0f, 0.0f, 1.0f, 1.0f, kInf, kInf, kInf};
  float got[7];
  table().exp(specials, got, 7);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(got[i], expected[i]) << specials[i];
  const float nan = std::numeric_limits<float>::quiet_NaN();
  float nan_out = 0.0f;
  table().exp(&nan, &nan_out, 1);
  EXPECT_TRUE(std::isnan(nan_out));
}

TEST_P(ElementwiseSimdTest, RmsNormMatchesTheReference) {
  ThreadPool pool(2);
  for (const size_t dim : kAwkwardDims) {
    const size_t rows = 3;
    const std::vector<float> x = RandomFloats(rows * dim, 1, 3.0f);
    std::vector<float> weight = RandomFloats(dim, 2);
    for (float& w : weight) w += 1.0f;
    const float eps = 1e-6f;
    std::vector<float> want(x.size()), got(x.size());
    ASSERT_TRUE(dsinfer::RmsNorm(x, weight, eps, want).ok());
    ASSERT_TRUE(RmsNorm(x, weight, eps, got, nullptr, table()).ok());
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_TRUE(Near(got[i], want[i], kRmsNormRelTol, 0.0)) << "dim " << dim << " i " << i;
    }
    std::vector<float> in_place = x;
    ASSERT_TRUE(RmsNorm(in_place, weight, eps, in_place, &pool, table()).ok());
    EXPECT_EQ(in_place, got) << "in place with a pool differs, dim " << dim;
  }
}

// Rows of random logits at two magnitudes (the larger one underflows most terms to 0 or
// subnormals) with -inf masked entries.
TEST_P(ElementwiseSimdTest, SoftmaxMatchesTheReference) {
  ThreadPool pool(2);
  for (const size_t cols : {size_t{1}, size_t{7}, size_t{129}, size_t{4096 + 3}}) {
    for (const float magnitude : {4.0f, 60.0f, 1e4f}) {
      const size_t rows = 4;
      std::vector<float> x = RandomFloats(rows * cols, 3, magnitude);
      for (size_t i = 0; i < x.size(); ++i) {
        if (i % cols % 5 == 1) x[i] = -kInf;  // masked; column 0 never is
      }
      std::vector<float> want(x.size()), got(x.size());
      ASSERT_TRUE(dsinfer::Softmax(x, static_cast<int64_t>(cols), want).ok());
      ASSERT_TRUE(Softmax(x, static_cast<int64_t>(cols), got, nullptr, table()).ok());
      for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_TRUE(Near(got[i], want[i], kSoftmaxRelTol, kSubnormalAbsTol))
            << "cols " << cols << " magnitude " << magnitude << " i " << i;
        if (x[i] == -kInf) {
          ASSERT_EQ(got[i], 0.0f) << i;
        }
      }
      std::vector<float> in_place = x;
      ASSERT_TRUE(Softmax(in_place, static_cast<int64_t>(cols), in_place, &pool, table()).ok());
      EXPECT_EQ(in_place, got) << "in place with a pool differs, cols " << cols;
    }
  }
}

TEST_P(ElementwiseSimdTest, SoftmaxOfADominantLogitIsOne) {
  std::vector<float> x = RandomFloats(129, 4, 10.0f);
  x[100] = 1e30f;
  std::vector<float> out(x.size());
  ASSERT_TRUE(Softmax(x, 129, out, nullptr, table()).ok());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(out[i], i == 100 ? 1.0f : 0.0f) << i;
}

// A NaN logit is skipped by the max (std::fmax) and poisons its own output, as in the reference.
TEST_P(ElementwiseSimdTest, SoftmaxNanLogitAsTheReference) {
  std::vector<float> x = RandomFloats(19, 5);
  x[17] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> want(x.size()), got(x.size());
  ASSERT_TRUE(dsinfer::Softmax(x, 19, want).ok());
  ASSERT_TRUE(Softmax(x, 19, got, nullptr, table()).ok());
  float fmax_of_row = -kInf;
  for (const float v : x) fmax_of_row = std::fmax(fmax_of_row, v);
  EXPECT_EQ(table().row_max(x.data(), 19), fmax_of_row);
  EXPECT_EQ(table().row_max(x.data(), 0), -kInf);
  EXPECT_TRUE(std::isnan(got[17]));
  for (size_t i = 0; i < x.size(); ++i) ASSERT_TRUE(Near(got[i], want[i], kSoftmaxRelTol, 0.0));
}

TEST_P(ElementwiseSimdTest, SiluMulMatchesTheReference) {
  ThreadPool pool(2);
  for (const size_t n : {size_t{1}, size_t{7}, size_t{129}, size_t{18432 + 3}}) {
    std::vector<float> gate = RandomFloats(n, 6, 4.0f);
    // e^-z overflowing, close to overflowing, underflowing; signed zeros; a tiny z.
    const float edges[] = {-100.0f, -88.8f, -88.7f, -87.0f, 100.0f, 0.0f, -0.0f, 1e-30f};
    for (size_t i = 0; i < std::size(edges) && 2 * i < n; ++i) gate[2 * i] = edges[i];
    const std::vector<float> up = RandomFloats(n, 7);
    std::vector<float> want(n), got(n);
    ASSERT_TRUE(dsinfer::SiluMul(gate, up, want).ok());
    ASSERT_TRUE(SiluMul(gate, up, got, nullptr, table()).ok());
    for (size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(Near(got[i], want[i], kSiluRelTol, kSubnormalAbsTol))
          << "n " << n << " i " << i << " z " << gate[i];
    }
    std::vector<float> in_place = gate;  // out aliases gate
    ASSERT_TRUE(SiluMul(in_place, up, in_place, &pool, table()).ok());
    EXPECT_EQ(in_place, got) << n;
    in_place = up;  // out aliases up
    ASSERT_TRUE(SiluMul(gate, in_place, in_place, nullptr, table()).ok());
    EXPECT_EQ(in_place, got) << n;
  }
}

TEST_P(ElementwiseSimdTest, AddAndScaleAreExact) {
  for (const size_t n : kAwkwardDims) {
    const std::vector<float> a = RandomFloats(n, 8), b = RandomFloats(n, 9);
    std::vector<float> want(n), got(n);
    ASSERT_TRUE(dsinfer::Add(a, b, want).ok());
    ASSERT_TRUE(Add(a, b, got, table()).ok());
    EXPECT_EQ(got, want) << n;
    std::vector<float> residual = a;
    ASSERT_TRUE(Add(residual, b, residual, table()).ok());
    EXPECT_EQ(residual, want) << n;

    ASSERT_TRUE(dsinfer::Scale(a, 0.3f, want).ok());
    ASSERT_TRUE(Scale(a, 0.3f, got, table()).ok());
    EXPECT_EQ(got, want) << n;
    residual = a;
    ASSERT_TRUE(Scale(residual, 0.3f, residual, table()).ok());
    EXPECT_EQ(residual, want) << n;
  }
}

// Every rejected input gives the reference's Status, code and message.
TEST_P(ElementwiseSimdTest, BadInputsRejectedAsTheReference) {
  const std::vector<float> x(10, 1.0f), w3(3, 1.0f), w5(5, 1.0f), empty;
  std::vector<float> out(10), out9(9);
  const auto same = [](const Status& got, const Status& want) {
    EXPECT_FALSE(want.ok());
    EXPECT_EQ(got.ToString(), want.ToString());
  };
  same(RmsNorm(x, w3, 1e-6f, out, nullptr, table()), dsinfer::RmsNorm(x, w3, 1e-6f, out));
  same(RmsNorm(x, w5, 1e-6f, out9, nullptr, table()), dsinfer::RmsNorm(x, w5, 1e-6f, out9));
  same(RmsNorm(x, empty, 1e-6f, out, nullptr, table()), dsinfer::RmsNorm(x, empty, 1e-6f, out));
  same(RmsNorm(x, w5, 0.0f, out, nullptr, table()), dsinfer::RmsNorm(x, w5, 0.0f, out));
  same(Softmax(x, 3, out, nullptr, table()), dsinfer::Softmax(x, 3, out));
  same(Softmax(x, 0, out, nullptr, table()), dsinfer::Softmax(x, 0, out));
  same(Softmax(x, 5, out9, nullptr, table()), dsinfer::Softmax(x, 5, out9));
  same(SiluMul(x, w5, out, nullptr, table()), dsinfer::SiluMul(x, w5, out));
  same(SiluMul(x, x, out9, nullptr, table()), dsinfer::SiluMul(x, x, out9));
  same(Add(x, x, out9, table()), dsinfer::Add(x, x, out9));
  same(Scale(x, 2.0f, out9, table()), dsinfer::Scale(x, 2.0f, out9));
}

// Fully masked rows (and a +inf logit) are the reference's error for the first such row, also
// when later rows are bad too and the rows are split over a pool.
TEST_P(ElementwiseSimdTest, SoftmaxNonFiniteRowMaxIsTheReferenceError) {
  ThreadPool pool(2);
  const int64_t cols = 37;
  for (const int64_t bad_row : {0, 5, 9}) {
    for (const float bad : {-kInf, kInf}) {
      std::vector<float> x = RandomFloats(10 * cols, 10);
      std::fill_n(x.begin() + bad_row * cols, bad == -kInf ? cols : 1, bad);
      if (bad_row < 9) std::fill_n(x.begin() + 9 * cols, cols, -kInf);
      std::vector<float> out(x.size());
      const Status want = dsinfer::Softmax(x, cols, out);
      ASSERT_FALSE(want.ok());
      EXPECT_EQ(Softmax(x, cols, out, nullptr, table()).ToString(), want.ToString());
      EXPECT_EQ(Softmax(x, cols, out, &pool, table()).ToString(), want.ToString());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryLevelOfThisCpu, ElementwiseSimdTest,
                         ::testing::ValuesIn(MachineLevels()), LevelName);

// avx512's exp applies 2^n with scalef, avx2's with two exact power-of-two products: the same
// single rounding, so the same bits (what lets a DSINFER_ISA change keep softmax/silu results).
TEST(ElementwiseAvx512Level, ExpIsAvx2sBitForBit) {
  if (BestIsa(GetCpuFeatures()) < Isa::kAvx512) GTEST_SKIP() << "no avx512 on this CPU";
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> uniform(-110.0f, 90.0f);
  std::vector<float> x(1 << 16);
  for (float& v : x) v = uniform(rng);
  std::vector<float> avx2(x.size()), avx512(x.size());
  ElementwiseFor(Isa::kAvx2).exp(x.data(), avx2.data(), static_cast<int64_t>(x.size()));
  ElementwiseFor(Isa::kAvx512).exp(x.data(), avx512.data(), static_cast<int64_t>(x.size()));
  EXPECT_EQ(avx2, avx512);
}

// The scalar level runs the reference's arithmetic: bit-identical results.
TEST(ElementwiseScalarLevel, MatchesTheReferenceBitForBit) {
  const ElementwiseTable& scalar = ElementwiseFor(Isa::kScalar);
  const std::vector<float> x = RandomFloats(size_t{3} * 129, 11, 5.0f);
  std::vector<float> weight = RandomFloats(129, 12);
  std::vector<float> want(x.size()), got(x.size());
  ASSERT_TRUE(dsinfer::RmsNorm(x, weight, 1e-5f, want).ok());
  ASSERT_TRUE(RmsNorm(x, weight, 1e-5f, got, nullptr, scalar).ok());
  EXPECT_EQ(got, want);
  ASSERT_TRUE(dsinfer::Softmax(x, 129, want).ok());
  ASSERT_TRUE(Softmax(x, 129, got, nullptr, scalar).ok());
  EXPECT_EQ(got, want);
  ASSERT_TRUE(dsinfer::SiluMul(x, x, want).ok());
  ASSERT_TRUE(SiluMul(x, x, got, nullptr, scalar).ok());
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace dsinfer::kernels
