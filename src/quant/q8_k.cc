// Q8_K: the activation format of the K-quant dot products (quantize_row_q8_K_ref).
//
// The scale maps the signed largest-magnitude element to -127 (not -128, so that every SIMD
// dot can treat qs as symmetric), and bsums caches the sum of each 16-element group so the
// dots can apply a sub-block's min with one multiply instead of 16.
#include <algorithm>
#include <cmath>

#include "quant/blocks.h"
#include "quant/reference.h"
#include "quant/rounding.h"

namespace dsinfer::quant_ref {

void QuantizeQ8_K(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float max = 0.0f;
    float amax = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      // ggml leaves bsums unwritten here; zero is what its qs imply, and keeps bytes defined.
      *y = BlockQ8_K{};
      ++y;
      continue;
    }
    const float iscale = -127.0f / max;
    // |iscale * x| <= 127 up to rounding; the clamp is ggml's guard and never changes a value.
    for (int j = 0; j < kQK_K; ++j) {
      y->qs[j] = static_cast<int8_t>(std::min(127, NearestInt(iscale * x[j])));
    }
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += y->qs[16 * g + l];
      y->bsums[g] = static_cast<int16_t>(sum);
    }
    y->d = 1 / iscale;
    ++y;
  }
}

void DequantizeQ8_K(const void* blocks, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ8_K*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    for (int j = 0; j < kQK_K; ++j) *y++ = x[i].d * static_cast<float>(x[i].qs[j]);
  }
}

}  // namespace dsinfer::quant_ref
