// Shared helpers of the kernels tests: the ISA levels this CPU can run and their test names,
// seeded random data, quantise/dequantise round trips, and a dot product's tolerance with the
// magnitude it scales with.
#ifndef DSINFER_TESTS_UNIT_KERNELS_KERNEL_TEST_UTIL_H_
#define DSINFER_TESTS_UNIT_KERNELS_KERNEL_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "platform/cpu_features.h"
#include "quant/quant_ops.h"
#include "quant/random_blocks.h"
#include "tensor/dtype.h"

namespace dsinfer::kernels {

// Every level up to BestIsa: scalar, then avx2, avx512, amx as far as the CPU goes.
inline std::vector<Isa> MachineLevels() {
  std::vector<Isa> levels;
  const int best = static_cast<int>(BestIsa(GetCpuFeatures()));
  for (int i = 0; i <= best; ++i) levels.push_back(static_cast<Isa>(i));
  return levels;
}

// Names a test of an ISA level after it: EveryLevelOfThisCpu/SomeTest.Case/avx512.
inline std::string LevelName(const ::testing::TestParamInfo<Isa>& info) {
  return std::string(IsaName(info.param));
}

inline std::vector<float> RandomFloats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// Rows of x in `dtype`. The types dsinfer only reads (no quantiser: the lattice types) get random
// codes instead, seeded from x and scaled to its RMS, so every weight type runs through the
// same tests.
inline std::vector<std::byte> Quantize(DType dtype, const std::vector<float>& x,
                                       int64_t n_per_row) {
  std::vector<std::byte> out(static_cast<size_t>(static_cast<int64_t>(x.size()) / n_per_row *
                                                 *RowBytes(dtype, n_per_row)));
  if (FindQuantOps(dtype)->quantize == nullptr) {
    double sum_sq = 0;
    for (float v : x) sum_sq += static_cast<double>(v) * v;
    const auto rms = static_cast<float>(std::sqrt(sum_sq / static_cast<double>(x.size())));
    const uint64_t seed = std::bit_cast<uint32_t>(x.front()) ^ x.size();
    EXPECT_TRUE(FillRandomBlocks(dtype, seed, rms, out).ok()) << DTypeName(dtype);
    return out;
  }
  EXPECT_TRUE(QuantizeRows(dtype, x, n_per_row, out).ok()) << DTypeName(dtype);
  return out;
}

inline std::vector<float> Dequantize(DType dtype, const std::vector<std::byte>& q, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  EXPECT_TRUE(DequantizeRows(dtype, q, n, y).ok()) << DTypeName(dtype);
  return y;
}

// A quantised SIMD dot product's block integer sums are exact; only its float accumulation
// order differs from the reference's, so |simd - reference| <= kDotTol * Magnitude(...) of the
// dequantised operands.
constexpr double kDotTol = 1e-6;

// sum_i |a[offset_a + i] * b[offset_b + i]|, the scale of a dot product's rounding error.
inline double Magnitude(const std::vector<float>& a, const std::vector<float>& b, size_t offset_a,
                        size_t offset_b, int64_t n) {
  double m = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    m += std::fabs(static_cast<double>(a[offset_a + static_cast<size_t>(i)]) *
                   b[offset_b + static_cast<size_t>(i)]);
  }
  return m;
}

}  // namespace dsinfer::kernels

#endif  // DSINFER_TESTS_UNIT_KERNELS_KERNEL_TEST_UTIL_H_
