// IQ2_XXS, IQ1_S and IQ1_M: ggml's lattice types of 2.06, 1.56 and 1.75 bits per weight, which
// the published low-bit DeepSeek-R1 / V3 files (e.g. Unsloth's UD-IQ1_S) use for their routed
// experts. Blocks of 256; each group of 8 weights is one entry of a fixed grid (iq_grids.h).
//
// dsinfer reads these files but does not write them: ggml's quantisers for these types need an
// importance matrix, so there is no quantiser here (QuantOps::quantize is null). The
// dequantisers reproduce dequantize_row_iq2_xxs / _iq1_s / _iq1_m, and the dots with Q8_K
// activations ggml_vec_dot_{iq2_xxs,iq1_s,iq1_m}_q8_K_generic, bit for bit: integer sums per
// 32-element sub-block, then the same float steps in the same order.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/iq_grids.h"
#include "quant/reference.h"

namespace dsinfer::quant_ref {
namespace {

constexpr int kGroup = 8;                // elements per grid entry
constexpr int kSubBlocks = kQK_K / kQK;  // 32-element sub-blocks per block

// Element j of a grid entry.
int8_t GridLevel(uint64_t entry, int j) { return static_cast<int8_t>(entry >> (8 * j)); }

// IQ2_XXS sub-block ib's two words: 4 grid indices, and 4 x 7 sign bits with the scale on top.
struct Iq2xxsWords {
  uint32_t indices;
  uint32_t signs_and_scale;
};
Iq2xxsWords Iq2xxsSubBlock(const BlockIQ2_XXS& b, int ib) {
  uint32_t words[2];
  std::memcpy(words, b.qs + ptrdiff_t{4} * ib, sizeof(words));
  return {words[0], words[1]};
}

// IQ1_S group l of sub-block ib: its 11-bit grid index.
int Iq1sIndex(const BlockIQ1_S& b, int ib, int l) {
  return b.qs[4 * ib + l] | (((b.qh[ib] >> (3 * l)) & 7) << 8);
}
int Iq1sScale(const BlockIQ1_S& b, int ib) { return 2 * ((b.qh[ib] >> 12) & 7) + 1; }

// IQ1_M: the four u16 of `scales`, the f16 d from their top nibbles, and per group of 8 the
// grid index, the delta's sign and the scale of its 16 elements.
struct Iq1mScales {
  uint16_t words[4];
};
Iq1mScales Iq1mScaleWords(const BlockIQ1_M& b) {
  Iq1mScales s{};
  std::memcpy(s.words, b.scales, sizeof(s.words));
  return s;
}
float Iq1mD(const Iq1mScales& s) { return Fp16ToFp32(Iq1mDBits(s.words)); }
// Group g (0..31) of the block.
int Iq1mIndex(const BlockIQ1_M& b, int g) {
  const int shift = g % 2 == 0 ? 8 : 4;
  return b.qs[g] | ((static_cast<uint16_t>(b.qh[g / 2]) << shift) & 0x700);
}
bool Iq1mNegativeDelta(const BlockIQ1_M& b, int g) {
  return (b.qh[g / 2] & (g % 2 == 0 ? 0x08 : 0x80)) != 0;
}
// Scale of the 16 elements h (0..15) of the block.
int Iq1mScale(const Iq1mScales& s, int h) {
  return 2 * ((s.words[h / 4] >> (3 * (h % 4))) & 7) + 1;
}

}  // namespace

void DequantizeIQ2_XXS(const void* blocks, float* y, int64_t n) {
  const auto& grid = Iq2xxsGrid();
  const auto* b = static_cast<const BlockIQ2_XXS*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = Fp16ToFp32(b[i].d);
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      const Iq2xxsWords w = Iq2xxsSubBlock(b[i], ib);
      const float db = d * (0.5F + static_cast<float>(w.signs_and_scale >> 28)) * 0.25F;
      for (int l = 0; l < 4; ++l) {
        const uint64_t entry = grid[(w.indices >> (8 * l)) & 0xFF];
        const uint8_t signs = Iq2Signs(w.signs_and_scale >> (7 * l));
        for (int j = 0; j < kGroup; ++j) {
          const float magnitude = db * static_cast<float>(static_cast<uint8_t>(entry >> (8 * j)));
          *y++ = (signs >> j) & 1U ? -magnitude : magnitude;
        }
      }
    }
  }
}

float DotIQ2_XXS(int64_t n, const void* w, const void* q8_k) {
  const auto& grid = Iq2xxsGrid();
  const auto* x = static_cast<const BlockIQ2_XXS*>(w);
  const auto* a = static_cast<const BlockQ8_K*>(q8_k);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = Fp16ToFp32(x[i].d) * a[i].d;
    const int8_t* q8 = a[i].qs;
    int32_t block_sum = 0;
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      const Iq2xxsWords words = Iq2xxsSubBlock(x[i], ib);
      const auto ls = static_cast<int32_t>(2 * (words.signs_and_scale >> 28) + 1);
      int32_t sub_sum = 0;
      for (int l = 0; l < 4; ++l) {
        const uint64_t entry = grid[(words.indices >> (8 * l)) & 0xFF];
        const uint8_t signs = Iq2Signs(words.signs_and_scale >> (7 * l));
        for (int j = 0; j < kGroup; ++j) {
          const int32_t p = static_cast<uint8_t>(entry >> (8 * j)) * q8[j];
          sub_sum += (signs >> j) & 1U ? -p : p;
        }
        q8 += kGroup;
      }
      block_sum += sub_sum * ls;
    }
    sum += d * static_cast<float>(block_sum);
  }
  return 0.125F * sum;
}

void DequantizeIQ1_S(const void* blocks, float* y, int64_t n) {
  const auto& grid = Iq1sGrid();
  const auto* b = static_cast<const BlockIQ1_S*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = Fp16ToFp32(b[i].d);
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      const float dl = d * static_cast<float>(Iq1sScale(b[i], ib));
      const float delta = (b[i].qh[ib] & 0x8000) != 0 ? -kIq1Delta : kIq1Delta;
      for (int l = 0; l < 4; ++l) {
        const uint64_t entry = grid[Iq1sIndex(b[i], ib, l)];
        for (int j = 0; j < kGroup; ++j) {
          *y++ = dl * (static_cast<float>(GridLevel(entry, j)) + delta);
        }
      }
    }
  }
}

float DotIQ1_S(int64_t n, const void* w, const void* q8_k) {
  const auto& grid = Iq1sGrid();
  const auto* x = static_cast<const BlockIQ1_S*>(w);
  const auto* a = static_cast<const BlockQ8_K*>(q8_k);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const int8_t* q8 = a[i].qs;
    int32_t level_sum = 0;
    int32_t delta_sum = 0;  // the delta's sign times the activations' sum, scaled
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      const int32_t ls = Iq1sScale(x[i], ib);
      const int32_t sign = (x[i].qh[ib] & 0x8000) != 0 ? -1 : 1;
      int32_t sub_sum = 0;
      for (int l = 0; l < 4; ++l) {
        const uint64_t entry = grid[Iq1sIndex(x[i], ib, l)];
        for (int j = 0; j < kGroup; ++j) sub_sum += q8[j] * GridLevel(entry, j);
        q8 += kGroup;
      }
      level_sum += ls * sub_sum;
      const int16_t* pair = a[i].bsums + ptrdiff_t{2} * ib;
      delta_sum += ls * sign * (pair[0] + pair[1]);
    }
    sum += Fp16ToFp32(x[i].d) * a[i].d *
           (static_cast<float>(level_sum) + kIq1Delta * static_cast<float>(delta_sum));
  }
  return sum;
}

void DequantizeIQ1_M(const void* blocks, float* y, int64_t n) {
  const auto& grid = Iq1sGrid();
  const auto* b = static_cast<const BlockIQ1_M*>(blocks);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const Iq1mScales scales = Iq1mScaleWords(b[i]);
    const float d = Iq1mD(scales);
    for (int g = 0; g < kQK_K / kGroup; ++g) {
      const float dl = d * static_cast<float>(Iq1mScale(scales, g / 2));
      const float delta = Iq1mNegativeDelta(b[i], g) ? -kIq1Delta : kIq1Delta;
      const uint64_t entry = grid[Iq1mIndex(b[i], g)];
      for (int j = 0; j < kGroup; ++j) {
        *y++ = dl * (static_cast<float>(GridLevel(entry, j)) + delta);
      }
    }
  }
}

float DotIQ1_M(int64_t n, const void* w, const void* q8_k) {
  const auto& grid = Iq1sGrid();
  const auto* x = static_cast<const BlockIQ1_M*>(w);
  const auto* a = static_cast<const BlockQ8_K*>(q8_k);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const Iq1mScales scales = Iq1mScaleWords(x[i]);
    const int8_t* q8 = a[i].qs;
    int32_t level_sum = 0;
    int32_t delta_sum = 0;
    for (int h = 0; h < kQK_K / 16; ++h) {  // 16 elements, two groups, one scale
      int32_t levels = 0;
      int32_t deltas = 0;
      for (int g = 2 * h; g < 2 * h + 2; ++g) {
        const uint64_t entry = grid[Iq1mIndex(x[i], g)];
        int32_t group_levels = 0;
        int32_t group_acts = 0;
        for (int j = 0; j < kGroup; ++j) {
          group_levels += q8[j] * GridLevel(entry, j);
          group_acts += q8[j];
        }
        q8 += kGroup;
        levels += group_levels;
        deltas += Iq1mNegativeDelta(x[i], g) ? -group_acts : group_acts;
      }
      const int32_t ls = Iq1mScale(scales, h);
      level_sum += levels * ls;
      delta_sum += deltas * ls;
    }
    sum += Iq1mD(scales) * a[i].d *
           (static_cast<float>(level_sum) + kIq1Delta * static_cast<float>(delta_sum));
  }
  return sum;
}

}  // namespace dsinfer::quant_ref
