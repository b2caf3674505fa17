// Q2_K, Q3_K and Q6_K: ggml's K-quants with 16 sub-blocks of 16 elements per super-block.
//
// Quantisation is two-level, as in quantize_row_TYPE_ref: a scale search per sub-block
// (k_quant_search.h), the sub-block scales quantised against the super-block's largest one,
// and then every element re-rounded against its sub-block's *stored* scale, so the levels fit
// the scale a reader will actually see. Sub-blocks whose stored scale is 0 keep the search's
// levels (ggml's `if (!d) continue`), which is visible in the bytes.
//
// Element e of a super-block (e = 128h + 32s + l, l in 0..31) is stored:
//   Q2_K/Q3_K  low 2 bits in bits 2s..2s+1 of qs[32h + l]; Q3_K's third bit in bit e/32 of
//              hmask[e % 32] (set means +0, clear means -4)
//   Q6_K       low nibble in ql[64h + 32(s % 2) + l] (bits 4(s / 2)..), top 2 bits in bits
//              2s..2s+1 of qh[32h + l]
// and its sub-block scale is index e / 16 in every format.
//
// The dots follow ggml_vec_dot_TYPE_q8_K_generic: exact integer sums per super-block, then
// float steps in ggml's order (Q3_K and Q6_K keep 8 float lanes, lane = e % 8, summed at the
// end), so our results equal ggml's scalar build bit for bit.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/k_quant_search.h"
#include "quant/k_scale_packing.h"
#include "quant/reference.h"
#include "quant/rounding.h"

namespace dsinfer::quant_ref {
namespace {

constexpr int kSubBlocks = kQK_K / 16;
// Pointer strides, as ptrdiff_t so offset arithmetic never widens an int product.
constexpr std::ptrdiff_t kSubBlock = 16;  // elements per sub-block
constexpr std::ptrdiff_t kHalf = 128;     // elements per half super-block

int TwoBitLevel(const uint8_t* qs, int e) {
  return (qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
}

// Inverse of TwoBitLevel for levels already in [0, 3].
void PackTwoBit(const uint8_t* levels, uint8_t* qs) {
  for (int h = 0; h < 2; ++h) {
    const uint8_t* lv = &levels[kHalf * h];
    for (int l = 0; l < 32; ++l) {
      qs[32 * h + l] =
          static_cast<uint8_t>(lv[l] | (lv[l + 32] << 2) | (lv[l + 64] << 4) | (lv[l + 96] << 6));
    }
  }
}

// Q3_K's signed 6-bit scale k (k_scale_packing.h).
int Q3Scale(const uint8_t* scales, int k) { return UnpackScaleQ3K(k, scales); }

// Q3_K's signed level in [-4, 3].
int Q3Level(const BlockQ3_K& b, int e) {
  const bool high = (b.hmask[e % 32] >> (e / 32)) & 1;
  return TwoBitLevel(b.qs, e) - (high ? 0 : 4);
}

// Q6_K's signed level in [-32, 31].
int Q6Level(const BlockQ6_K& b, int e) {
  const int h = e / 128, s = (e / 32) % 4, l = e % 32;
  const int lo4 = (b.ql[64 * h + 32 * (s % 2) + l] >> (4 * (s / 2))) & 0xF;
  const int hi2 = (b.qh[32 * h + l] >> (2 * s)) & 3;
  return (lo4 | (hi2 << 4)) - 32;
}

void QuantizeBlockQ2_K(const float* x, BlockQ2_K* y) {
  constexpr float kScaleMax = 15.0f;  // scales and mins are 4-bit
  uint8_t levels[kQK_K];
  float scales[kSubBlocks];
  float mins[kSubBlocks];
  float max_scale = 0.0f;  // scales are positive: the min absorbs the offset
  float max_min = 0.0f;
  for (int j = 0; j < kSubBlocks; ++j) {
    float weights[16];
    for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
    scales[j] = SearchScaleMin(16, 3, &x[kSubBlock * j], weights,
                               {.rmin = -0.5f, .rdelta = 0.1f, .nstep = 15, .use_mad = true},
                               &levels[kSubBlock * j], &mins[j]);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }

  // The int-to-byte truncations below are ggml's; a well-formed search keeps them in range.
  if (max_scale > 0.0f) {
    const float iscale = kScaleMax / max_scale;
    for (int j = 0; j < kSubBlocks; ++j) {
      y->scales[j] = static_cast<uint8_t>(NearestInt(iscale * scales[j]));
    }
    y->d = Fp32ToFp16(max_scale / kScaleMax);
  } else {
    std::memset(y->scales, 0, sizeof(y->scales));
    y->d = Fp32ToFp16(0.0f);
  }
  if (max_min > 0.0f) {
    const float iscale = kScaleMax / max_min;
    for (int j = 0; j < kSubBlocks; ++j) {
      y->scales[j] = static_cast<uint8_t>(y->scales[j] | (NearestInt(iscale * mins[j]) << 4));
    }
    y->dmin = Fp32ToFp16(max_min / kScaleMax);
  } else {
    y->dmin = Fp32ToFp16(0.0f);
  }

  for (int j = 0; j < kSubBlocks; ++j) {
    const float d = Fp16ToFp32(y->d) * static_cast<float>(y->scales[j] & 0xF);
    if (d == 0.0f) continue;
    const float dm = Fp16ToFp32(y->dmin) * static_cast<float>(y->scales[j] >> 4);
    for (int l = 0; l < 16; ++l) {
      const int q = NearestInt((x[16 * j + l] + dm) / d);
      levels[16 * j + l] = static_cast<uint8_t>(std::clamp(q, 0, 3));
    }
  }
  PackTwoBit(levels, y->qs);
}

void QuantizeBlockQ3_K(const float* x, BlockQ3_K* y) {
  int8_t levels[kQK_K];
  float scales[kSubBlocks];
  float max_scale = 0.0f;  // signed: the scale of largest magnitude maps to -32
  float amax = 0.0f;
  for (int j = 0; j < kSubBlocks; ++j) {
    scales[j] = SearchSymmetricScaleGreedy(16, 4, &x[kSubBlock * j], &levels[kSubBlock * j]);
    const float scale = std::fabs(scales[j]);
    if (scale > amax) {
      amax = scale;
      max_scale = scales[j];
    }
  }

  std::memset(y->scales, 0, sizeof(y->scales));
  if (max_scale != 0.0f) {
    const float iscale = -32.0f / max_scale;
    for (int j = 0; j < kSubBlocks; ++j) {
      // ggml narrows to int8 before clamping; |iscale * scale| <= 32, so this is exact.
      const auto q = static_cast<int8_t>(NearestInt(iscale * scales[j]));
      const int l = std::clamp<int>(q, -32, 31) + 32;
      if (j < 8) {
        y->scales[j] = static_cast<uint8_t>(l & 0xF);
      } else {
        y->scales[j - 8] = static_cast<uint8_t>(y->scales[j - 8] | ((l & 0xF) << 4));
      }
      y->scales[8 + j % 4] =
          static_cast<uint8_t>(y->scales[8 + j % 4] | ((l >> 4) << (2 * (j / 4))));
    }
    y->d = Fp32ToFp16(1 / iscale);
  } else {
    y->d = Fp32ToFp16(0.0f);
  }

  for (int j = 0; j < kSubBlocks; ++j) {
    const float d = Fp16ToFp32(y->d) * static_cast<float>(Q3Scale(y->scales, j));
    if (d == 0.0f) continue;
    for (int l = 0; l < 16; ++l) {
      const int q = NearestInt(x[16 * j + l] / d);
      levels[16 * j + l] = static_cast<int8_t>(std::clamp(q, -4, 3) + 4);
    }
  }

  // Levels are 0..7 here: bit 2 goes to hmask, the rest to qs.
  uint8_t low_bits[kQK_K];
  std::memset(y->hmask, 0, sizeof(y->hmask));
  for (int e = 0; e < kQK_K; ++e) {
    auto level = static_cast<uint8_t>(levels[e]);
    if (level > 3) {
      y->hmask[e % 32] = static_cast<uint8_t>(y->hmask[e % 32] | (1 << (e / 32)));
      level = static_cast<uint8_t>(level - 4);
    }
    low_bits[e] = level;
  }
  PackTwoBit(low_bits, y->qs);
}

void QuantizeBlockQ6_K(const float* x, BlockQ6_K* y) {
  int8_t levels[kQK_K];
  float scales[kSubBlocks];
  float max_scale = 0.0f;  // signed: the scale of largest magnitude maps to -128
  float max_abs_scale = 0.0f;
  for (int j = 0; j < kSubBlocks; ++j) {
    scales[j] = SearchSymmetricScale(16, 32, &x[kSubBlock * j], /*weights=*/nullptr,
                                     &levels[kSubBlock * j]);
    const float abs_scale = std::fabs(scales[j]);
    if (abs_scale > max_abs_scale) {
      max_abs_scale = abs_scale;
      max_scale = scales[j];
    }
  }
  if (max_abs_scale < kGroupMaxEps) {
    *y = BlockQ6_K{};
    return;
  }

  const float iscale = -128.0f / max_scale;
  y->d = Fp32ToFp16(1 / iscale);
  for (int j = 0; j < kSubBlocks; ++j) {
    y->scales[j] = static_cast<int8_t>(std::min(127, NearestInt(iscale * scales[j])));
  }
  for (int j = 0; j < kSubBlocks; ++j) {
    const float d = Fp16ToFp32(y->d) * static_cast<float>(y->scales[j]);
    if (d == 0.0f) continue;
    for (int l = 0; l < 16; ++l) {
      const int q = NearestInt(x[16 * j + l] / d);
      levels[16 * j + l] = static_cast<int8_t>(std::clamp(q, -32, 31) + 32);
    }
  }

  for (int h = 0; h < 2; ++h) {
    const int8_t* lv = &levels[kHalf * h];
    uint8_t* ql = &y->ql[kHalf / 2 * h];  // two nibbles per byte
    uint8_t* qh = &y->qh[kHalf / 4 * h];  // four 2-bit fields per byte
    for (int l = 0; l < 32; ++l) {
      ql[l] = static_cast<uint8_t>((lv[l] & 0xF) | ((lv[l + 64] & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((lv[l + 32] & 0xF) | ((lv[l + 96] & 0xF) << 4));
      qh[l] = static_cast<uint8_t>((lv[l] >> 4) | ((lv[l + 32] >> 4) << 2) |
                                   ((lv[l + 64] >> 4) << 4) | ((lv[l + 96] >> 4) << 6));
    }
  }
}

// Q3_K and Q6_K dots: per super-block, integer sums in 8 lanes (lane = e % 8, ggml's layout
// for auto-vectorisation), each scaled by d into a float lane accumulator that lives across
// super-blocks; the lanes are summed in order at the end. `level(b, e)` and `scale(b, k)` are
// the signed level and sub-block scale.
template <typename Block, typename LevelFn, typename ScaleFn>
float DotEightLanes(int64_t n, const Block* x, const BlockQ8_K* y, LevelFn level, ScaleFn scale) {
  float lanes[8] = {};
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int lane_sums[8] = {};
    for (int e = 0; e < kQK_K; ++e) {
      lane_sums[e % 8] += scale(x[i], e / 16) * (y[i].qs[e] * level(x[i], e));
    }
    const float d = Fp16ToFp32(x[i].d) * y[i].d;
    for (int l = 0; l < 8; ++l) lanes[l] += d * static_cast<float>(lane_sums[l]);
  }
  float sum = 0.0f;
  for (float lane : lanes) sum += lane;
  return sum;
}

}  // namespace

void QuantizeQ2_K(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockQ2_K*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i) QuantizeBlockQ2_K(x + kQK_K * i, y + i);
}

void QuantizeQ3_K(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockQ3_K*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i) QuantizeBlockQ3_K(x + kQK_K * i, y + i);
}

void QuantizeQ6_K(const float* x, void* blocks, int64_t n) {
  auto* y = static_cast<BlockQ6_K*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i) QuantizeBlockQ6_K(x + kQK_K * i, y + i);
}

void DequantizeQ2_K(const void* blocks, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ2_K*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const float d = Fp16ToFp32(x[i].d);
    const float dmin = Fp16ToFp32(x[i].dmin);
    for (int e = 0; e < kQK_K; ++e) {
      const uint8_t sc = x[i].scales[e / 16];
      const float dl = d * static_cast<float>(sc & 0xF);
      const float ml = dmin * static_cast<float>(sc >> 4);
      y[e] = dl * static_cast<float>(TwoBitLevel(x[i].qs, e)) - ml;
    }
  }
}

void DequantizeQ3_K(const void* blocks, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ3_K*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const float d = Fp16ToFp32(x[i].d);
    for (int e = 0; e < kQK_K; ++e) {
      const float dl = d * static_cast<float>(Q3Scale(x[i].scales, e / 16));
      y[e] = dl * static_cast<float>(Q3Level(x[i], e));
    }
  }
}

void DequantizeQ6_K(const void* blocks, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ6_K*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const float d = Fp16ToFp32(x[i].d);
    for (int e = 0; e < kQK_K; ++e) {
      const int8_t scale = x[i].scales[e / 16];
      y[e] = d * static_cast<float>(scale) * static_cast<float>(Q6Level(x[i], e));
    }
  }
}

float DotQ2_K(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(q8_k);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    // The min term needs only the activation's group sums: sum_g bsums[g] * min_g.
    int sum_mins = 0;
    int sum_q = 0;
    for (int g = 0; g < kSubBlocks; ++g) {
      sum_mins += y[i].bsums[g] * (x[i].scales[g] >> 4);
      int sum_g = 0;
      for (int l = 0; l < 16; ++l) {
        sum_g += y[i].qs[16 * g + l] * TwoBitLevel(x[i].qs, 16 * g + l);
      }
      sum_q += (x[i].scales[g] & 0xF) * sum_g;
    }
    const float dall = y[i].d * Fp16ToFp32(x[i].d);
    const float dmin = y[i].d * Fp16ToFp32(x[i].dmin);
    sum += dall * static_cast<float>(sum_q) - dmin * static_cast<float>(sum_mins);
  }
  return sum;
}

float DotQ3_K(int64_t n, const void* w, const void* q8_k) {
  return DotEightLanes(n, static_cast<const BlockQ3_K*>(w), static_cast<const BlockQ8_K*>(q8_k),
                       Q3Level, [](const BlockQ3_K& b, int k) { return Q3Scale(b.scales, k); });
}

float DotQ6_K(int64_t n, const void* w, const void* q8_k) {
  return DotEightLanes(n, static_cast<const BlockQ6_K*>(w), static_cast<const BlockQ8_K*>(q8_k),
                       Q6Level, [](const BlockQ6_K& b, int k) { return int{b.scales[k]}; });
}

}  // namespace dsinfer::quant_ref
