// IQ4_NL: 32-element blocks of 4-bit indices into a non-linear code book (kIq4nlValues),
// y = d * kIq4nlValues[q], with more levels near zero where weights cluster. IQ4_XS: the same
// 32-element blocks as sub-blocks of 256, each scale a 6-bit multiple of one f16 d.
//
// Quantisation follows what quantize_iq4_nl (ggml-quants.c) writes without an importance
// matrix: quantize_row_iq4_nl_impl with one block per "super-block" and ntry = 7. It fits the
// scale by x^2-weighted least squares on a first grid, then tries 15 more grids that map the
// largest-magnitude element to a level near the code book's most negative value, keeping the
// best fit; the indices are finally re-chosen against the winning scale. (The other entry
// point, quantize_row_iq4_nl_ref, uses ntry = -1 and writes different bytes; llama-quantize
// uses this one.) The dot reproduces ggml_vec_dot_iq4_nl_q8_0_generic.
//
// IQ4_XS follows quantize_iq4_xs without an importance matrix (quantize_row_iq4_nl_impl with
// super-blocks of 256 and ntry = 7): each sub-block's scale is searched as IQ4_NL's, d is
// -(the scale of largest magnitude) / 32, each sub-block's ls - 32 = nearest_int(scale / d)
// clamped to [-32, 31], and its indices are re-chosen against d * (ls - 32). Its dot, with Q8_K
// activations, reproduces ggml_vec_dot_iq4_xs_q8_K_generic.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/k_quant_search.h"
#include "quant/k_scale_packing.h"
#include "quant/reference.h"
#include "quant/rounding.h"

namespace dsinfer::quant_ref {
namespace {

constexpr int kHalf = kQK / 2;
constexpr int kLevels = 16;
constexpr int kTries = 7;                // grids (itry + kIq4nlValues[0]) / max for itry in [-7, 7]
constexpr int kSubBlocks = kQK_K / kQK;  // IQ4_XS's 32-element sub-blocks per super-block

// Index of the code-book value nearest to x (ggml's best_index_int8). A binary search brackets
// x between neighbours; an exact midpoint goes to the upper neighbour.
int NearestCodeIndex(float x) {
  const auto value = [](int i) { return static_cast<float>(kIq4nlValues[i]); };
  if (x <= value(0)) return 0;
  if (x >= value(kLevels - 1)) return kLevels - 1;
  int lo = 0;
  int hi = kLevels - 1;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (x < value(mid)) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return x - value(hi - 1) < value(hi) - x ? hi - 1 : hi;
}

// Weighted sums of the least-squares fit x ≈ d * q for the indices chosen at inverse scale id:
// the best d is sumqx / sumq2 and the fit improves as sumqx^2 / sumq2 grows.
struct Fit {
  float sumqx = 0.0f;
  float sumq2 = 0.0f;
};

Fit FitAt(const float* x, const float* weight, float id) {
  Fit fit;
  for (int j = 0; j < kQK; ++j) {
    const auto q = static_cast<float>(kIq4nlValues[NearestCodeIndex(id * x[j])]);
    const float w = weight[j];
    fit.sumqx += w * q * x[j];
    fit.sumq2 += w * q * q;
  }
  return fit;
}

// The scale of one block (0 for a block that is zero to within kGroupMaxEps).
float SearchScale(const float* x) {
  float weight[kQK];
  for (int j = 0; j < kQK; ++j) weight[j] = x[j] * x[j];
  float amax = 0.0f;
  float max = 0.0f;  // the element of largest magnitude, sign kept
  for (int j = 0; j < kQK; ++j) {
    const float ax = std::fabs(x[j]);
    if (ax > amax) {
      amax = ax;
      max = x[j];
    }
  }
  if (amax < kGroupMaxEps) return 0.0f;

  // First grid: max lands on -kIq4nlValues[0] = 127, near the top of the code book.
  const Fit first = FitAt(x, weight, 1 / (-max / static_cast<float>(kIq4nlValues[0])));
  float d = first.sumq2 > 0.0f ? first.sumqx / first.sumq2 : 0.0f;
  float best = d * first.sumqx;
  // Then max lands near the bottom value -127 (the book is asymmetric, so the sign matters).
  for (int itry = -kTries; itry <= kTries; ++itry) {
    const Fit fit = FitAt(x, weight, static_cast<float>(itry + kIq4nlValues[0]) / max);
    if (fit.sumq2 > 0.0f && fit.sumqx * fit.sumqx > best * fit.sumq2) {
      d = fit.sumqx / fit.sumq2;
      best = d * fit.sumqx;
    }
  }
  return d;
}

}  // namespace

void QuantizeIQ4_NL(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockIQ4_NL*>(blocks);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = SearchScale(x);
    y[i].d = Fp32ToFp16(d);
    // Indices against the float scale (not its half): a zero block gets the index of 0 * x.
    const float id = d != 0.0f ? 1 / d : 0.0f;
    for (int j = 0; j < kHalf; ++j) {
      const int lo = NearestCodeIndex(id * x[j]);
      const int hi = NearestCodeIndex(id * x[j + kHalf]);
      y[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void DequantizeIQ4_NL(const void* blocks, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ4_NL*>(blocks);
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = Fp16ToFp32(x[i].d);
    for (int j = 0; j < kHalf; ++j) {
      y[j] = d * static_cast<float>(kIq4nlValues[x[i].qs[j] & 0x0F]);
      y[j + kHalf] = d * static_cast<float>(kIq4nlValues[x[i].qs[j] >> 4]);
    }
  }
}

float DotIQ4_NL(int64_t n, const void* w, const void* q8_0) {
  const auto* x = static_cast<const BlockIQ4_NL*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(q8_0);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int sum_lo = 0, sum_hi = 0;
    for (int j = 0; j < kHalf; ++j) {
      sum_lo += y[i].qs[j] * kIq4nlValues[x[i].qs[j] & 0x0F];
      sum_hi += y[i].qs[j + kHalf] * kIq4nlValues[x[i].qs[j] >> 4];
    }
    // ggml multiplies the activation scale first.
    sum += (Fp16ToFp32(y[i].d) * Fp16ToFp32(x[i].d)) * static_cast<float>(sum_lo + sum_hi);
  }
  return sum;
}

void QuantizeIQ4_XS(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockIQ4_XS*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float scales[kSubBlocks];
    float max_scale = 0.0f;  // the sub-block scale of largest magnitude, sign kept
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      scales[ib] = SearchScale(x + ptrdiff_t{kQK} * ib);
      if (std::fabs(scales[ib]) > std::fabs(max_scale)) max_scale = scales[ib];
    }
    const float d = -max_scale / 32;  // -0.0 for a zero super-block, as ggml writes it
    y[i].d = Fp32ToFp16(d);
    uint8_t ls[kSubBlocks];
    const float id = d != 0.0f ? 1 / d : 0.0f;
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      const int l = std::clamp(NearestInt(id * scales[ib]), -32, 31);
      const float dl = d * static_cast<float>(l);
      const float idl = dl != 0.0f ? 1 / dl : 0.0f;
      const float* xb = x + ptrdiff_t{kQK} * ib;
      for (int j = 0; j < kHalf; ++j) {
        const int lo = NearestCodeIndex(idl * xb[j]);
        const int hi = NearestCodeIndex(idl * xb[j + kHalf]);
        y[i].qs[kHalf * ib + j] = static_cast<uint8_t>(lo | (hi << 4));
      }
      ls[ib] = static_cast<uint8_t>(l + 32);
    }
    PackScalesIQ4_XS(ls, y[i]);
  }
}

void DequantizeIQ4_XS(const void* blocks, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ4_XS*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    for (int ib = 0; ib < kSubBlocks; ++ib, y += kQK) {
      const float dl = d * static_cast<float>(UnpackScaleIQ4_XS(ib, x[i]) - 32);
      const uint8_t* qs = x[i].qs + ptrdiff_t{kHalf} * ib;
      for (int j = 0; j < kHalf; ++j) {
        y[j] = dl * static_cast<float>(kIq4nlValues[qs[j] & 0x0F]);
        y[j + kHalf] = dl * static_cast<float>(kIq4nlValues[qs[j] >> 4]);
      }
    }
  }
}

float DotIQ4_XS(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const BlockIQ4_XS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(q8_k);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = Fp16ToFp32(x[i].d) * y[i].d;
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      const uint8_t* qs = x[i].qs + ptrdiff_t{kHalf} * ib;
      const int8_t* q8 = y[i].qs + ptrdiff_t{kQK} * ib;
      int32_t block = 0;
      for (int j = 0; j < kHalf; ++j) {
        block += q8[j] * kIq4nlValues[qs[j] & 0x0F] + q8[j + kHalf] * kIq4nlValues[qs[j] >> 4];
      }
      // ggml scales each sub-block in float, in this order.
      sum += (d * static_cast<float>(UnpackScaleIQ4_XS(ib, x[i]) - 32)) * static_cast<float>(block);
    }
  }
  return sum;
}

}  // namespace dsinfer::quant_ref
