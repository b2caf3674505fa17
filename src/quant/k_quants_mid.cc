// Q4_K and Q5_K: 256-element super-blocks of eight 32-element sub-blocks, each sub-block with a
// 6-bit scale and a 6-bit min (k_scale_packing.h) under two half-precision super-scales:
//   y = d * sc_j * q - dmin * m_j,   q in [0, 15] (Q4_K) or [0, 31] (Q5_K).
//
// Quantisation follows quantize_row_q4_K_ref / quantize_row_q5_K_ref (ggml-quants.c), what
// llama-quantize writes without an importance matrix: a weighted scale/min search per
// sub-block, the eight scales and mins rounded to 6 bits against their maxima, then every
// element re-rounded against the scales as they will be decoded. The dots reproduce
// ggml_vec_dot_q{4,5}_K_q8_K_generic: integer sums per sub-block, eight float lanes across
// super-blocks, the min term subtracted per super-block, lanes added at the end.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/k_quant_search.h"
#include "quant/k_scale_packing.h"
#include "quant/reference.h"
#include "quant/rounding.h"

namespace dsinfer::quant_ref {
namespace {

constexpr int kSub = 32;    // elements per sub-block
constexpr int kChunk = 64;  // a chunk of qs bytes holds two sub-blocks: low, then high nibbles
constexpr int kLanes = 8;   // float partial sums of ggml's generic dot

// ggml's search parameters: Q4_K looks a little further below the plain grid than Q5_K.
constexpr ScaleMinSearch kQ4Search{.rmin = -1.0f, .rdelta = 0.1f, .nstep = 20, .use_mad = false};
constexpr ScaleMinSearch kQ5Search{.rmin = -0.5f, .rdelta = 0.1f, .nstep = 15, .use_mad = false};

// What Q4_K and Q5_K share: the header fields of a super-block and one level per element.
struct ScaleMinSuperBlock {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t levels[kQK_K];  // 0..nmax
};

// Quantises one super-block of x to levels in [0, nmax].
void QuantizeSuperBlock(const float* x, int nmax, const ScaleMinSearch& search,
                        ScaleMinSuperBlock* out) {
  float scales[kKSubBlocks];
  float mins[kKSubBlocks];
  float weights[kSub];
  float max_scale = 0.0f;  // the min is subtracted, so scales are non-negative
  float max_min = 0.0f;
  const float* xs = x;
  uint8_t* levels = out->levels;
  for (int j = 0; j < kKSubBlocks; ++j, xs += kSub, levels += kSub) {
    // Weight each element by the sub-block's RMS plus its own magnitude: large elements
    // matter more, but small ones are not ignored.
    float sum_x2 = 0.0f;
    for (int l = 0; l < kSub; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / kSub);
    for (int l = 0; l < kSub; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = SearchScaleMin(kSub, nmax, xs, weights, search, levels, &mins[j]);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }

  // Six-bit scales and mins relative to their maxima. ggml stores nearest_int into a uint8_t
  // before clamping to 63, so an out-of-range value wraps first; we keep that order.
  const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
  uint8_t ls[kKSubBlocks];
  uint8_t lm[kKSubBlocks];
  for (int j = 0; j < kKSubBlocks; ++j) {
    ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(NearestInt(inv_scale * scales[j])));
    lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(NearestInt(inv_min * mins[j])));
  }
  PackScaleMinK4(ls, lm, out->scales);
  out->d = Fp32ToFp16(max_scale / 63.0f);
  out->dmin = Fp32ToFp16(max_min / 63.0f);

  // Re-round every element against the scale and min the decoder will actually see (half
  // super-scale times 6-bit factor). A sub-block whose decoded scale is 0 keeps the levels
  // of its search, as ggml does.
  const float d = Fp16ToFp32(out->d);
  const float dmin = Fp16ToFp32(out->dmin);
  for (int j = 0; j < kKSubBlocks; ++j) {
    const KScaleMin sm = UnpackScaleMinK4(j, out->scales);
    const float dl = d * static_cast<float>(sm.scale);
    if (dl == 0.0f) continue;
    const float ml = dmin * static_cast<float>(sm.min);
    for (int l = 0; l < kSub; ++l) {
      const int q = NearestInt((x[kSub * j + l] + ml) / dl);
      out->levels[kSub * j + l] = static_cast<uint8_t>(std::clamp(q, 0, nmax));
    }
  }
}

// Level e (0..255) of a super-block, as the dot and dequantiser read it.
int Q4KLevel(const BlockQ4_K& b, int e) {
  const uint8_t byte = b.qs[e / kChunk * kSub + e % kSub];
  return (e % kChunk) < kSub ? (byte & 0x0F) : (byte >> 4);
}

// Q5_K adds bit 4 from qh: element e of chunk c uses bit 2c (low nibble) or 2c+1 (high).
int Q5KLevel(const BlockQ5_K& b, int e) {
  const int c = e / kChunk;
  const bool high = (e % kChunk) >= kSub;
  const uint8_t byte = b.qs[c * kSub + e % kSub];
  const int nibble = high ? (byte >> 4) : (byte & 0x0F);
  const int bit = (b.qh[e % kSub] >> (2 * c + (high ? 1 : 0))) & 1;
  return nibble | (bit << 4);
}

int Level(const BlockQ4_K& b, int e) { return Q4KLevel(b, e); }
int Level(const BlockQ5_K& b, int e) { return Q5KLevel(b, e); }

template <typename Block>
void DequantizeScaleMin(const void* blocks, float* y, int64_t n) {
  const auto* x = static_cast<const Block*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = Fp16ToFp32(x[i].d);
    const float dmin = Fp16ToFp32(x[i].dmin);
    for (int j = 0; j < kKSubBlocks; ++j, y += kSub) {
      const KScaleMin sm = UnpackScaleMinK4(j, x[i].scales);
      const float dl = d * static_cast<float>(sm.scale);
      const float ml = dmin * static_cast<float>(sm.min);
      for (int l = 0; l < kSub; ++l) {
        y[l] = dl * static_cast<float>(Level(x[i], kSub * j + l)) - ml;
      }
    }
  }
}

// ggml_vec_dot_q{4,5}_K_q8_K_generic. Integer parts are exact, so only the float order
// matters: lane l gathers elements 8k + l of each super-block (scaled by d * d8), the min term
// dmin * d8 * sum(bsums * m) is subtracted from a separate sum per super-block, and the
// lanes are added to that sum last.
template <typename Block>
float DotScaleMin(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const Block*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(q8_k);
  float lanes[kLanes] = {};
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    KScaleMin sm[kKSubBlocks];
    for (int j = 0; j < kKSubBlocks; ++j) sm[j] = UnpackScaleMinK4(j, x[i].scales);
    // Each bsums entry covers 16 activations, half a sub-block.
    int min_sum = 0;
    for (int g = 0; g < kQK_K / 16; ++g) min_sum += y[i].bsums[g] * sm[g / 2].min;
    int32_t lane_sums[kLanes] = {};
    for (int e = 0; e < kQK_K; ++e) {
      lane_sums[e % kLanes] += sm[e / kSub].scale * (y[i].qs[e] * Level(x[i], e));
    }
    const float d = Fp16ToFp32(x[i].d) * y[i].d;
    for (int l = 0; l < kLanes; ++l) lanes[l] += d * static_cast<float>(lane_sums[l]);
    const float dmin = Fp16ToFp32(x[i].dmin) * y[i].d;
    sum -= dmin * static_cast<float>(min_sum);
  }
  for (float lane : lanes) sum += lane;
  return sum;
}

}  // namespace

void QuantizeQ4_K(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockQ4_K*>(blocks);
  ScaleMinSuperBlock sb;
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    QuantizeSuperBlock(x, 15, kQ4Search, &sb);
    y[i].d = sb.d;
    y[i].dmin = sb.dmin;
    std::memcpy(y[i].scales, sb.scales, kKScaleSize);
    // Chunk c holds sub-block 2c in the low nibbles and 2c+1 in the high nibbles.
    const uint8_t* lv = sb.levels;
    uint8_t* qs = y[i].qs;
    for (int c = 0; c < kQK_K / kChunk; ++c, lv += kChunk, qs += kSub) {
      for (int l = 0; l < kSub; ++l) qs[l] = static_cast<uint8_t>(lv[l] | (lv[l + kSub] << 4));
    }
  }
}

void QuantizeQ5_K(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockQ5_K*>(blocks);
  ScaleMinSuperBlock sb;
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    QuantizeSuperBlock(x, 31, kQ5Search, &sb);
    y[i].d = sb.d;
    y[i].dmin = sb.dmin;
    std::memcpy(y[i].scales, sb.scales, kKScaleSize);
    std::memset(y[i].qh, 0, sizeof(y[i].qh));
    // As Q4_K for the low four bits; bit 4 of chunk c goes to qh bit 2c (low) / 2c+1 (high).
    const uint8_t* lv = sb.levels;
    uint8_t* qs = y[i].qs;
    for (int c = 0; c < kQK_K / kChunk; ++c, lv += kChunk, qs += kSub) {
      for (int l = 0; l < kSub; ++l) {
        const int lo = lv[l];
        const int hi = lv[l + kSub];
        qs[l] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
        y[i].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
  }
}

void DequantizeQ4_K(const void* blocks, float* y, int64_t n) {
  DequantizeScaleMin<BlockQ4_K>(blocks, y, n);
}

void DequantizeQ5_K(const void* blocks, float* y, int64_t n) {
  DequantizeScaleMin<BlockQ5_K>(blocks, y, n);
}

float DotQ4_K(int64_t n, const void* w, const void* q8_k) {
  return DotScaleMin<BlockQ4_K>(n, w, q8_k);
}

float DotQ5_K(int64_t n, const void* w, const void* q8_k) {
  return DotScaleMin<BlockQ5_K>(n, w, q8_k);
}

}  // namespace dsinfer::quant_ref
