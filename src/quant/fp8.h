// FP8 E4M3 ("e4m3fn": 4 exponent bits with bias 7, 3 mantissa bits, no infinities, NaN =
// S.1111.111, largest finite 448) and the 128x128 block-scaled weights of the DeepSeek-V3/R1
// checkpoints (shared/reference/deepseek-models.md §4):
//
//   weight            [rows, cols]                              F8_E4M3
//   weight_scale_inv  [ceil(rows / 128), ceil(cols / 128)]      F32
//   w[i][j] = fp8(weight[i][j]) * weight_scale_inv[i / 128][j / 128]   (multiplied, not divided)
//
// Conversions round to nearest even; finite values beyond +-448 saturate to +-448 (the
// "satfinite" convention: a weight must never turn into NaN), NaN stays NaN.
#ifndef DSINFER_QUANT_FP8_H_
#define DSINFER_QUANT_FP8_H_

#include <cstdint>
#include <span>

#include "base/status.h"

namespace dsinfer {

inline constexpr float kFp8E4M3Max = 448.0f;
inline constexpr int64_t kFp8BlockSize = 128;

float Fp8E4M3ToFp32(uint8_t v);
uint8_t Fp32ToFp8E4M3(float f);

struct Fp8BlockScaledShape {
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t block = kFp8BlockSize;
  int64_t scale_rows() const { return (rows + block - 1) / block; }
  int64_t scale_cols() const { return (cols + block - 1) / block; }
};

// Dequantises rows [row_begin, row_end) of a block-scaled weight into `out`
// ((row_end - row_begin) * cols floats). Sizes are checked: the inputs come from files.
Status DequantizeFp8BlockScaled(const Fp8BlockScaledShape& shape, std::span<const uint8_t> weight,
                                std::span<const float> scales, int64_t row_begin, int64_t row_end,
                                std::span<float> out);

// Quantises a float matrix as DeepSeek's reference does: per block, scale = amax / 448 and
// q = fp8(x / scale) (a block of zeros gets scale 1). For tests and for writing FP8 files.
Status QuantizeFp8BlockScaled(const Fp8BlockScaledShape& shape, std::span<const float> weight,
                              std::span<uint8_t> out_weight, std::span<float> out_scales);

// Dot of row `row` of a block-scaled weight with float activations x[cols]: per column block,
// scale * sum(fp8 * x), accumulated in float in column order.
float DotFp8BlockScaledRow(const Fp8BlockScaledShape& shape, const uint8_t* weight,
                           const float* scales, int64_t row, const float* x);

}  // namespace dsinfer

#endif  // DSINFER_QUANT_FP8_H_
