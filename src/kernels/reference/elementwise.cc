#include "kernels/reference/elementwise.h"

#include <cmath>
#include <cstddef>
#include <limits>

#include "base/check.h"
#include "kernels/reference/op_checks.h"

namespace dsinfer {

Status RmsNorm(std::span<const float> x, std::span<const float> weight, float eps,
               std::span<float> out) {
  const size_t dim = weight.size();
  DSI_RETURN_IF_ERROR(CheckRmsNormArgs(x.size(), dim, eps, out.size()));
  for (size_t row = 0; row < x.size(); row += dim) {
    const float* xr = x.data() + row;
    float* yr = out.data() + row;
    double sum_sq = 0.0;
    for (size_t j = 0; j < dim; ++j) sum_sq += static_cast<double>(xr[j]) * xr[j];
    // HF: variance = mean(x^2) in fp32, x * rsqrt(variance + eps), then times the weight.
    const auto mean_sq = static_cast<float>(sum_sq / static_cast<double>(dim));
    const float inv_rms = 1.0f / std::sqrt(mean_sq + eps);
    for (size_t j = 0; j < dim; ++j) yr[j] = weight[j] * (xr[j] * inv_rms);
  }
  return Status::Ok();
}

Status Softmax(std::span<const float> x, int64_t n_cols, std::span<float> out) {
  DSI_RETURN_IF_ERROR(CheckSoftmaxArgs(x.size(), n_cols, out.size()));
  const auto cols = static_cast<size_t>(n_cols);
  DSI_CHECK(cols > 0);  // CheckSoftmaxArgs ensured it; says so to the static analyser
  for (size_t row = 0; row < x.size(); row += cols) {
    const float* xr = x.data() + row;
    float* yr = out.data() + row;
    float max = -std::numeric_limits<float>::infinity();
    for (size_t j = 0; j < cols; ++j) max = std::fmax(max, xr[j]);
    if (!std::isfinite(max)) return SoftmaxRowMaxError(row / cols, max);
    double sum = 0.0;
    for (size_t j = 0; j < cols; ++j) {
      yr[j] = std::exp(xr[j] - max);
      sum += yr[j];
    }
    // sum >= 1: the max element contributes exp(0).
    const auto inv_sum = static_cast<float>(1.0 / sum);
    for (size_t j = 0; j < cols; ++j) yr[j] *= inv_sum;
  }
  return Status::Ok();
}

Status SiluMul(std::span<const float> gate, std::span<const float> up, std::span<float> out) {
  DSI_RETURN_IF_ERROR(CheckSameSizes("silu_mul", gate.size(), up.size(), out.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    const float z = gate[i];
    out[i] = z / (1.0f + std::exp(-z)) * up[i];
  }
  return Status::Ok();
}

Status Add(std::span<const float> a, std::span<const float> b, std::span<float> out) {
  DSI_RETURN_IF_ERROR(CheckSameSizes("add", a.size(), b.size(), out.size()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = a[i] + b[i];
  return Status::Ok();
}

Status Scale(std::span<const float> x, float scale, std::span<float> out) {
  DSI_RETURN_IF_ERROR(CheckSameSizes("scale", x.size(), out.size(), out.size()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = x[i] * scale;
  return Status::Ok();
}

}  // namespace dsinfer
