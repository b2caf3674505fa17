// IQ2_XS, IQ2_S, IQ3_XXS and IQ3_S: ggml's lattice types of 2.31, 2.56, 3.06 and 3.44 bits per
// weight whose grids hold magnitudes and whose blocks store a sign per weight. llama.cpp's own
// IQ2_XS / IQ2_S / IQ2_M / IQ3_XXS / IQ3_S / IQ3_M mixtures are made of them (IQ3_XXS files
// hold IQ2_S and IQ3_S tensors too), as are the published DeepSeek-V3 / R1 files named after
// those types (e.g. Unsloth's UD-IQ2_M and UD-IQ3_XXS).
//
// Read-only, as iq_grid_quants.cc's types: no quantiser here. The dequantisers reproduce
// dequantize_row_{iq2_xs,iq2_s,iq3_xxs,iq3_s} and the dots with Q8_K activations
// ggml_vec_dot_{iq2_xs,iq2_s,iq3_xxs,iq3_s}_q8_K_generic bit for bit. All four are one shape:
// a group of 8 weights is 8 grid magnitudes, 8 signs and a 4-bit scale code s shared by 16 or
// 32 weights; the dot's integer sum is sum_g (2 s + 1) sum_j m_j sign_j q8_j per block, which
// is exact in any order, so only the per-type float steps below need ggml's order.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/iq_grids.h"
#include "quant/reference.h"

namespace dsinfer::quant_ref {
namespace {

constexpr int kGroup = 8;                    // weights per group
constexpr int kGroups = kQK_K / kGroup;      // groups per block
constexpr int kGroupsPerSub = kQK / kGroup;  // groups per 32-weight sub-block

// One group of 8 weights: element j is magnitude byte j, negated where bit j of signs is set.
struct Group {
  uint64_t magnitudes;
  uint8_t signs;
};

// Two 4-magnitude IQ3 entries as one group (the first is elements 0..3).
uint64_t Pair(uint32_t first, uint32_t second) {
  return first | (static_cast<uint64_t>(second) << 32);
}

// The 4-bit scale code of the 16 weights half (0..15) of an IQ2_XS / IQ2_S block.
int Iq2ScaleCode(const uint8_t* scales, int half) {
  return (scales[half / 2] >> (4 * (half % 2))) & 0xF;
}

// IQ3_XXS sub-block ib's u32 after the index bytes: 4 x 7 sign bits, the scale code on top.
uint32_t Iq3xxsSignsAndScale(const BlockIQ3_XXS& b, int ib) {
  uint32_t word = 0;
  std::memcpy(&word, b.qs + kQK_K / 4 + ptrdiff_t{4} * ib, sizeof(word));
  return word;
}

struct Iq2xs {
  using Block = BlockIQ2_XS;
  static const auto& Grid() { return Iq2xsGrid(); }
  static Group At(const Block& b, int g, const std::array<uint64_t, 512>& grid) {
    return {grid[b.qs[g] & 511], Iq2Signs(b.qs[g] >> 9)};
  }
  static int ScaleCode(const Block& b, int g) { return Iq2ScaleCode(b.scales, g / 2); }
  static float Scale(float d, int s) { return d * (0.5F + static_cast<float>(s)) * 0.25F; }
  static constexpr float kDotFactor = 0.125F;
};

struct Iq2s {
  using Block = BlockIQ2_S;
  static const auto& Grid() { return Iq2sGrid(); }
  static Group At(const Block& b, int g, const std::array<uint64_t, 1024>& grid) {
    const int l = g % kGroupsPerSub;
    const int index = b.qs[g] | ((b.qh[g / kGroupsPerSub] << (8 - 2 * l)) & 0x300);
    return {grid[index], b.qs[kGroups + g]};
  }
  static int ScaleCode(const Block& b, int g) { return Iq2ScaleCode(b.scales, g / 2); }
  static float Scale(float d, int s) { return Iq2xs::Scale(d, s); }
  static constexpr float kDotFactor = 0.125F;
};

struct Iq3xxs {
  using Block = BlockIQ3_XXS;
  static const auto& Grid() { return Iq3xxsGrid(); }
  static Group At(const Block& b, int g, const std::array<uint32_t, 256>& grid) {
    const uint8_t* q = b.qs + ptrdiff_t{2} * g;
    const uint32_t bits = Iq3xxsSignsAndScale(b, g / kGroupsPerSub);
    return {Pair(grid[q[0]], grid[q[1]]), Iq2Signs(bits >> (7 * (g % kGroupsPerSub)))};
  }
  static int ScaleCode(const Block& b, int g) {
    return static_cast<int>(Iq3xxsSignsAndScale(b, g / kGroupsPerSub) >> 28);
  }
  static float Scale(float d, int s) { return d * (0.5F + static_cast<float>(s)) * 0.5F; }
  static constexpr float kDotFactor = 0.25F;
};

struct Iq3s {
  using Block = BlockIQ3_S;
  static const auto& Grid() { return Iq3sGrid(); }
  static Group At(const Block& b, int g, const std::array<uint32_t, 512>& grid) {
    const int ib = g / kGroupsPerSub;
    const int l = g % kGroupsPerSub;
    const uint8_t* q = b.qs + ptrdiff_t{2} * g;
    const int first = q[0] | ((b.qh[ib] << (8 - 2 * l)) & 256);
    const int second = q[1] | ((b.qh[ib] << (7 - 2 * l)) & 256);
    return {Pair(grid[first], grid[second]), b.signs[g]};
  }
  static int ScaleCode(const Block& b, int g) {
    const int ib = g / kGroupsPerSub;
    return (b.scales[ib / 2] >> (4 * (ib % 2))) & 0xF;
  }
  static float Scale(float d, int s) { return d * static_cast<float>(1 + 2 * s); }
  static constexpr float kDotFactor = 1.0F;
};

template <typename Type>
void Dequantize(const void* blocks, float* y, int64_t n) {
  const auto* b = static_cast<const typename Type::Block*>(blocks);
  const auto& grid = Type::Grid();  // once: the tables live in another translation unit
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = Fp16ToFp32(b[i].d);
    for (int g = 0; g < kGroups; ++g) {
      const float dl = Type::Scale(d, Type::ScaleCode(b[i], g));
      const Group group = Type::At(b[i], g, grid);
      for (int j = 0; j < kGroup; ++j) {
        const float magnitude =
            dl * static_cast<float>(static_cast<uint8_t>(group.magnitudes >> (8 * j)));
        *y++ = (group.signs >> j) & 1U ? -magnitude : magnitude;
      }
    }
  }
}

template <typename Type>
float Dot(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const typename Type::Block*>(w);
  const auto* a = static_cast<const BlockQ8_K*>(q8_k);
  const auto& grid = Type::Grid();
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const int8_t* q8 = a[i].qs;
    int32_t block_sum = 0;
    for (int g = 0; g < kGroups; ++g) {
      const Group group = Type::At(x[i], g, grid);
      int32_t group_sum = 0;
      for (int j = 0; j < kGroup; ++j) {
        const int32_t p = static_cast<uint8_t>(group.magnitudes >> (8 * j)) * q8[j];
        group_sum += (group.signs >> j) & 1U ? -p : p;
      }
      q8 += kGroup;
      block_sum += (2 * Type::ScaleCode(x[i], g) + 1) * group_sum;
    }
    sum += Fp16ToFp32(x[i].d) * a[i].d * static_cast<float>(block_sum);
  }
  return Type::kDotFactor * sum;
}

}  // namespace

void DequantizeIQ2_XS(const void* blocks, float* y, int64_t n) { Dequantize<Iq2xs>(blocks, y, n); }
void DequantizeIQ2_S(const void* blocks, float* y, int64_t n) { Dequantize<Iq2s>(blocks, y, n); }
void DequantizeIQ3_XXS(const void* blocks, float* y, int64_t n) {
  Dequantize<Iq3xxs>(blocks, y, n);
}
void DequantizeIQ3_S(const void* blocks, float* y, int64_t n) { Dequantize<Iq3s>(blocks, y, n); }

float DotIQ2_XS(int64_t n, const void* w, const void* q8_k) { return Dot<Iq2xs>(n, w, q8_k); }
float DotIQ2_S(int64_t n, const void* w, const void* q8_k) { return Dot<Iq2s>(n, w, q8_k); }
float DotIQ3_XXS(int64_t n, const void* w, const void* q8_k) { return Dot<Iq3xxs>(n, w, q8_k); }
float DotIQ3_S(int64_t n, const void* w, const void* q8_k) { return Dot<Iq3s>(n, w, q8_k); }

}  // namespace dsinfer::quant_ref
