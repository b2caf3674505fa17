#include "quant/fp8.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace dsinfer {
namespace {

float DecodeE4M3(uint8_t v) {
  const float sign = (v & 0x80) != 0 ? -1.0f : 1.0f;
  const int exponent = (v >> 3) & 0xF;
  const int mantissa = v & 0x7;
  if (exponent == 0xF && mantissa == 0x7) return std::numeric_limits<float>::quiet_NaN();
  if (exponent == 0) return sign * std::ldexp(static_cast<float>(mantissa) / 8.0f, -6);
  return sign * std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
}

const std::array<float, 256>& DecodeTable() {
  static const std::array<float, 256> kTable = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) t[i] = DecodeE4M3(static_cast<uint8_t>(i));
    return t;
  }();
  return kTable;
}

}  // namespace

float Fp8E4M3ToFp32(uint8_t v) { return DecodeTable()[v]; }

uint8_t Fp32ToFp8E4M3(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const auto sign = static_cast<uint8_t>((bits >> 24) & 0x80);
  const float a = std::fabs(f);
  if (std::isnan(f)) return static_cast<uint8_t>(sign | 0x7F);
  if (a >= kFp8E4M3Max) return static_cast<uint8_t>(sign | 0x7E);  // saturate (448 itself too)
  if (a == 0.0f) return sign;
  // Smallest normal is 2^-6; below it the grid is uniform with step 2^-9.
  int exponent = 0;
  std::frexp(a, &exponent);                  // a = m * 2^exponent, m in [0.5, 1)
  const int e = std::max(exponent - 1, -6);  // unbiased exponent of the target binade
  const float step = std::ldexp(1.0f, e - 3);
  // a / step is exact (power-of-two scaling); nearbyint rounds ties to even.
  const auto q = static_cast<int>(std::nearbyint(a / step));
  if (e == -6 && q < 8) return static_cast<uint8_t>(sign | q);  // subnormal (or zero)
  // q in [8, 16]: 16 means rounding carried into the next binade.
  const int biased = e + 7 + (q == 16 ? 1 : 0);
  const int mantissa = q == 16 ? 0 : q - 8;
  if (biased > 15 || (biased == 15 && mantissa == 7)) return static_cast<uint8_t>(sign | 0x7E);
  return static_cast<uint8_t>(sign | (biased << 3) | mantissa);
}

namespace {

Status CheckShape(const Fp8BlockScaledShape& s, size_t weight_size, size_t scales_size) {
  if (s.rows <= 0 || s.cols <= 0 || s.block <= 0) {
    return InvalidArgumentError(
        fmt::format("FP8 weight shape [{}, {}] block {} is empty", s.rows, s.cols, s.block));
  }
  if (static_cast<int64_t>(weight_size) != s.rows * s.cols) {
    return InvalidArgumentError(fmt::format("FP8 weight [{}, {}] needs {} bytes, got {}", s.rows,
                                            s.cols, s.rows * s.cols, weight_size));
  }
  if (static_cast<int64_t>(scales_size) != s.scale_rows() * s.scale_cols()) {
    return InvalidArgumentError(
        fmt::format("FP8 weight [{}, {}] with {}x{} blocks needs scales [{}, {}], got {} values",
                    s.rows, s.cols, s.block, s.block, s.scale_rows(), s.scale_cols(), scales_size));
  }
  return Status::Ok();
}

}  // namespace

Status DequantizeFp8BlockScaled(const Fp8BlockScaledShape& shape, std::span<const uint8_t> weight,
                                std::span<const float> scales, int64_t row_begin, int64_t row_end,
                                std::span<float> out) {
  DSI_RETURN_IF_ERROR(CheckShape(shape, weight.size(), scales.size()));
  if (row_begin < 0 || row_end > shape.rows || row_begin > row_end ||
      static_cast<int64_t>(out.size()) != (row_end - row_begin) * shape.cols) {
    return InvalidArgumentError(fmt::format("FP8 dequantise rows [{}, {}) of {} into {} floats",
                                            row_begin, row_end, shape.rows, out.size()));
  }
  const auto& table = DecodeTable();
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float* scale_row = scales.data() + (r / shape.block) * shape.scale_cols();
    const uint8_t* w = weight.data() + r * shape.cols;
    float* y = out.data() + (r - row_begin) * shape.cols;
    for (int64_t c = 0; c < shape.cols; ++c) y[c] = table[w[c]] * scale_row[c / shape.block];
  }
  return Status::Ok();
}

Status QuantizeFp8BlockScaled(const Fp8BlockScaledShape& shape, std::span<const float> weight,
                              std::span<uint8_t> out_weight, std::span<float> out_scales) {
  DSI_RETURN_IF_ERROR(CheckShape(shape, out_weight.size(), out_scales.size()));
  if (weight.size() != out_weight.size()) {
    return InvalidArgumentError("FP8 quantise: input and output sizes differ");
  }
  for (int64_t br = 0; br < shape.scale_rows(); ++br) {
    for (int64_t bc = 0; bc < shape.scale_cols(); ++bc) {
      const int64_t r0 = br * shape.block, r1 = std::min(shape.rows, r0 + shape.block);
      const int64_t c0 = bc * shape.block, c1 = std::min(shape.cols, c0 + shape.block);
      float amax = 0.0f;
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t c = c0; c < c1; ++c)
          amax = std::max(amax, std::fabs(weight[r * shape.cols + c]));
      }
      const float scale = amax > 0.0f ? amax / kFp8E4M3Max : 1.0f;
      out_scales[br * shape.scale_cols() + bc] = scale;
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t c = c0; c < c1; ++c) {
          out_weight[r * shape.cols + c] = Fp32ToFp8E4M3(weight[r * shape.cols + c] / scale);
        }
      }
    }
  }
  return Status::Ok();
}

float DotFp8BlockScaledRow(const Fp8BlockScaledShape& shape, const uint8_t* weight,
                           const float* scales, int64_t row, const float* x) {
  const auto& table = DecodeTable();
  const uint8_t* w = weight + row * shape.cols;
  const float* scale_row = scales + (row / shape.block) * shape.scale_cols();
  float sum = 0.0f;
  for (int64_t c0 = 0; c0 < shape.cols; c0 += shape.block) {
    const int64_t c1 = std::min(shape.cols, c0 + shape.block);
    float block_sum = 0.0f;
    for (int64_t c = c0; c < c1; ++c) block_sum += table[w[c]] * x[c];
    sum += block_sum * scale_row[c0 / shape.block];
  }
  return sum;
}

}  // namespace dsinfer
