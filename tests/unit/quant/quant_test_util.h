// Helpers shared by the quantisation tests: random rows, quantise/dequantise through the
// QuantOps table, error measures, and the float dot that a quantised dot is checked against.
//
// Everything goes through FindQuantOps / QuantizeRows / DequantizeRows, so the tests exercise
// the table the product dispatches through, not private function pointers into quant_ref.
// The quant test files are written inside namespace dsinfer::quant_test and call these plainly.
#ifndef DSINFER_TESTS_UNIT_QUANT_QUANT_TEST_UTIL_H_
#define DSINFER_TESTS_UNIT_QUANT_QUANT_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "quant/quant_ops.h"
#include "tensor/dtype.h"

namespace dsinfer::quant_test {

// n draws of N(0, scale^2) from a seeded mt19937: the same row for the same seed everywhere.
inline std::vector<float> RandomRow(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = normal(rng);
  return x;
}

// One row of x.size() elements quantised to `dtype`. The buffer starts filled with `poison`,
// so a quantiser that leaves bytes unwritten shows up in byte comparisons.
inline std::vector<std::byte> Quantize(DType dtype, std::span<const float> x,
                                       std::byte poison = std::byte{0xAA}) {
  const auto n = static_cast<int64_t>(x.size());
  const StatusOr<int64_t> bytes = RowBytes(dtype, n);
  EXPECT_TRUE(bytes.ok()) << DTypeName(dtype) << " n=" << n;
  std::vector<std::byte> q(bytes.ok() ? static_cast<size_t>(*bytes) : 0, poison);
  EXPECT_TRUE(QuantizeRows(dtype, x, n, q).ok()) << DTypeName(dtype) << " n=" << n;
  return q;
}

// One row of n elements stored as `dtype`, back to floats.
inline std::vector<float> Dequantize(DType dtype, std::span<const std::byte> q, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  EXPECT_TRUE(DequantizeRows(dtype, q, n, y).ok()) << DTypeName(dtype) << " n=" << n;
  return y;
}

// sqrt(mean((a - b)^2)), in double.
inline double Rmse(std::span<const float> a, std::span<const float> b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    s += d * d;
  }
  return std::sqrt(s / static_cast<double>(a.size()));
}

// RMS(y - x) / RMS(x): the round-trip error relative to the row's own size.
inline double RelativeRmse(std::span<const float> x, std::span<const float> y) {
  double err = 0.0, ref = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = static_cast<double>(y[i]) - x[i];
    err += d * d;
    ref += static_cast<double>(x[i]) * x[i];
  }
  return std::sqrt(err / ref);
}

inline bool AllFinite(std::span<const float> y) {
  for (float v : y) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

struct FloatDotResult {
  double value;      // sum of a[i] * b[i], in double
  double magnitude;  // sum of |a[i] * b[i]|: what a quantised dot's rounding scales with
};

inline FloatDotResult FloatDot(std::span<const float> a, std::span<const float> b) {
  FloatDotResult r{.value = 0.0, .magnitude = 0.0};
  for (size_t i = 0; i < a.size(); ++i) {
    const double p = static_cast<double>(a[i]) * b[i];
    r.value += p;
    r.magnitude += std::fabs(p);
  }
  return r;
}

struct DotComparison {
  float kernel;         // the type's vec_dot on the quantised rows
  FloatDotResult want;  // the float dot of the same rows, dequantised
};

// Quantises w to `dtype` and x to its vec_dot_type, and returns vec_dot of the two beside the
// float dot of their dequantised values. `dtype` must have a vec_dot.
inline DotComparison CompareDot(DType dtype, std::span<const float> w, std::span<const float> x) {
  const QuantOps* ops = FindQuantOps(dtype);
  const auto n = static_cast<int64_t>(w.size());
  const std::vector<std::byte> qw = Quantize(dtype, w);
  const std::vector<std::byte> qx = Quantize(ops->vec_dot_type, x);
  return {.kernel = ops->vec_dot(n, qw.data(), qx.data()),
          .want = FloatDot(Dequantize(dtype, qw, n), Dequantize(ops->vec_dot_type, qx, n))};
}

// Names a parameterised case after its `dtype` member ("q4_K", "iq4_nl", "bf16").
struct DTypeParamName {
  template <typename Case>
  std::string operator()(const ::testing::TestParamInfo<Case>& info) const {
    return std::string(DTypeName(info.param.dtype));
  }
};

}  // namespace dsinfer::quant_test

#endif  // DSINFER_TESTS_UNIT_QUANT_QUANT_TEST_UTIL_H_
