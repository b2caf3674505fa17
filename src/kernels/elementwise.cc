#include "kernels/elementwise.h"

#include <atomic>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

#include "base/check.h"
#include "kernels/for_range.h"
#include "kernels/isa_levels.h"
#include "kernels/kernel_table.h"
#include "kernels/reference/op_checks.h"

#if DSINFER_KERNELS_X86
#include "kernels/x86/avx2/elementwise_simd.h"
#include "kernels/x86/avx512/elementwise_simd.h"
#endif

namespace dsinfer::kernels {
namespace {

// ---- the scalar level: the reference's loops, row by row --------------------------------

void ExpScalar(const float* x, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::exp(x[i]);
}

void RmsNormRowScalar(const float* x, const float* weight, float eps, float* out, int64_t dim) {
  double sum_sq = 0.0;
  for (int64_t j = 0; j < dim; ++j) sum_sq += static_cast<double>(x[j]) * x[j];
  const auto mean_sq = static_cast<float>(sum_sq / static_cast<double>(dim));
  const float inv_rms = 1.0f / std::sqrt(mean_sq + eps);
  for (int64_t j = 0; j < dim; ++j) out[j] = weight[j] * (x[j] * inv_rms);
}

float RowMaxScalar(const float* x, int64_t n) {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) max = std::fmax(max, x[j]);
  return max;
}

double ExpSubSumScalar(const float* x, float max, float* out, int64_t n) {
  double sum = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    out[j] = std::exp(x[j] - max);
    sum += out[j];
  }
  return sum;
}

void SiluMulScalar(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float z = gate[i];
    out[i] = z / (1.0f + std::exp(-z)) * up[i];
  }
}

void AddScalar(const float* a, const float* b, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void ScaleScalar(const float* x, float scale, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale;
}

ElementwiseTable ScalarTable() {
  return ElementwiseTable{.isa = Isa::kScalar,
                          .exp = ExpScalar,
                          .rms_norm_row = RmsNormRowScalar,
                          .row_max = RowMaxScalar,
                          .exp_sub_sum = ExpSubSumScalar,
                          .silu_mul = SiluMulScalar,
                          .add = AddScalar,
                          .scale = ScaleScalar};
}

// Each level replaces every entry it has a body for; only pointers are copied here.
ElementwiseTable Avx2Table(const ElementwiseTable& below) {
  ElementwiseTable t = below;
  t.isa = Isa::kAvx2;
#if DSINFER_KERNELS_X86
  t.exp = avx2::ExpRow;
  t.rms_norm_row = avx2::RmsNormRow;
  t.row_max = avx2::RowMax;
  t.exp_sub_sum = avx2::ExpSubSumRow;
  t.silu_mul = avx2::SiluMulRow;
  t.add = avx2::AddRow;
  t.scale = avx2::ScaleRow;
#endif
  return t;
}

ElementwiseTable Avx512Table(const ElementwiseTable& below) {
  ElementwiseTable t = below;
  t.isa = Isa::kAvx512;
#if DSINFER_KERNELS_X86
  t.exp = avx512::ExpRow;
  t.rms_norm_row = avx512::RmsNormRow;
  t.row_max = avx512::RowMax;
  t.exp_sub_sum = avx512::ExpSubSumRow;
  t.silu_mul = avx512::SiluMulRow;
  t.add = avx512::AddRow;
  t.scale = avx512::ScaleRow;
#endif
  return t;
}

const IsaLevels<ElementwiseTable>& Tables() {
  // No AMX bodies: these ops are not matrix products.
  static const auto kTables = BuildIsaLevels<ElementwiseTable>(ScalarTable, Avx2Table, Avx512Table,
                                                               SameAsBelow<Isa::kAmx>());
  return kTables;
}

}  // namespace

const ElementwiseTable& ElementwiseFor(Isa isa) { return LevelFor(Tables(), isa, "elementwise"); }

const ElementwiseTable& Elementwise() {
  static const ElementwiseTable& selected = ElementwiseFor(Kernels().isa);
  return selected;
}

Status RmsNorm(std::span<const float> x, std::span<const float> weight, float eps,
               std::span<float> out, ThreadPool* pool, const ElementwiseTable& table) {
  DSI_RETURN_IF_ERROR(CheckRmsNormArgs(x.size(), weight.size(), eps, out.size()));
  const auto dim = static_cast<int64_t>(weight.size());
  const auto rows = static_cast<int64_t>(x.size()) / dim;
  ForRange(pool, rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      table.rms_norm_row(x.data() + r * dim, weight.data(), eps, out.data() + r * dim, dim);
    }
  });
  return Status::Ok();
}

Status Softmax(std::span<const float> x, int64_t n_cols, std::span<float> out, ThreadPool* pool,
               const ElementwiseTable& table) {
  DSI_RETURN_IF_ERROR(CheckSoftmaxArgs(x.size(), n_cols, out.size()));
  const auto rows = static_cast<int64_t>(x.size()) / n_cols;
  // The first row whose maximum is not finite; each chunk stops at its first one.
  std::atomic<int64_t> first_bad_row{rows};
  ForRange(pool, rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = x.data() + r * n_cols;
      float* yr = out.data() + r * n_cols;
      const float max = table.row_max(xr, n_cols);
      if (!std::isfinite(max)) {
        int64_t seen = first_bad_row.load();
        while (r < seen && !first_bad_row.compare_exchange_weak(seen, r)) {
        }
        return;
      }
      // sum >= 1: the max element contributes exp(0).
      const double sum = table.exp_sub_sum(xr, max, yr, n_cols);
      table.scale(yr, static_cast<float>(1.0 / sum), yr, n_cols);
    }
  });
  const int64_t bad = first_bad_row.load();
  if (bad < rows) {
    return SoftmaxRowMaxError(static_cast<size_t>(bad),
                              table.row_max(x.data() + bad * n_cols, n_cols));
  }
  return Status::Ok();
}

Status SiluMul(std::span<const float> gate, std::span<const float> up, std::span<float> out,
               ThreadPool* pool, const ElementwiseTable& table) {
  DSI_RETURN_IF_ERROR(CheckSameSizes("silu_mul", gate.size(), up.size(), out.size()));
  // Chunks start 16 floats apart: on a 64-byte aligned `out`, threads never share a line.
  ForRange(
      pool, static_cast<int64_t>(out.size()),
      [&](int64_t begin, int64_t end) {
        table.silu_mul(gate.data() + begin, up.data() + begin, out.data() + begin, end - begin);
      },
      /*grain=*/16);
  return Status::Ok();
}

Status Add(std::span<const float> a, std::span<const float> b, std::span<float> out,
           const ElementwiseTable& table) {
  DSI_RETURN_IF_ERROR(CheckSameSizes("add", a.size(), b.size(), out.size()));
  table.add(a.data(), b.data(), out.data(), static_cast<int64_t>(out.size()));
  return Status::Ok();
}

Status Scale(std::span<const float> x, float scale, std::span<float> out,
             const ElementwiseTable& table) {
  DSI_RETURN_IF_ERROR(CheckSameSizes("scale", x.size(), out.size(), out.size()));
  table.scale(x.data(), scale, out.data(), static_cast<int64_t>(out.size()));
  return Status::Ok();
}

}  // namespace dsinfer::kernels
