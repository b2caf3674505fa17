// AVX-512 (VNNI) bodies over the x8 layouts: the shared loops of x86/packed_x8_body.inc with
// vpdpbusd on 256-bit vectors (on this Zen 4 a 512-bit vpdpbusd is two 256-bit halves, and
// 256-bit keeps one row group per register), plus Q8_0, which needs VNNI's 32-bit
// accumulation of unsigned x signed bytes.
#include "kernels/x86/avx512/packed_x8.h"

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/packed_layout.h"
#include "quant/blocks.h"

namespace dsinfer::kernels::avx512 {
namespace {

inline __m256i DotAccU8S8(__m256i acc, __m256i u8, __m256i s8) {
  return _mm256_dpbusd_epi32(acc, u8, s8);
}

constexpr bool kDotTakesFullBytes = true;
// 4 tokens: 8 integer and 8 float accumulators plus the weight vectors fit 32 registers.
constexpr int kGemmTokens = 4;

}  // namespace

#include "kernels/x86/packed_x8_body.inc"

namespace {

// One group of 8 Q8_0 rows against T tokens.
template <int T>
void GroupQ8_0(int64_t nb, const BlockQ8_0x8* w, const TokenTile<T>& tile) {
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
  __m256 acc[T];
  __m256 acc_offset[T];
  for (int t = 0; t < T; ++t) acc[t] = acc_offset[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    __m256i s0[T];
    __m256i s1[T];
    for (int t = 0; t < T; ++t) s0[t] = s1[t] = _mm256_setzero_si256();
    for (int64_t j = 0; j < 8; j += 2) {
      const __m256i v0 = _mm256_xor_si256(Load32(w[b].qs[j]), bias);
      const __m256i v1 = _mm256_xor_si256(Load32(w[b].qs[j + 1]), bias);
      for (int t = 0; t < T; ++t) {
        const int8_t* q = reinterpret_cast<const BlockQ8_0*>(tile.act[t])[b].qs + 4 * j;
        s0[t] = _mm256_dpbusd_epi32(s0[t], v0, Broadcast32(q));
        s1[t] = _mm256_dpbusd_epi32(s1[t], v1, Broadcast32(q + 4));
      }
    }
    const __m256 d_w = Halves8(w[b].d);
    for (int t = 0; t < T; ++t) {
      const float* p = tile.prep[t] + 2 * b;
      acc[t] = _mm256_fmadd_ps(_mm256_mul_ps(d_w, _mm256_set1_ps(p[0])),
                               _mm256_cvtepi32_ps(_mm256_add_epi32(s0[t], s1[t])), acc[t]);
      acc_offset[t] = _mm256_fmadd_ps(d_w, _mm256_set1_ps(p[1]), acc_offset[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(tile.y[t], _mm256_add_ps(acc[t], acc_offset[t]));
}

constexpr auto kGroupQ8_0 = [](int64_t nb, const BlockQ8_0x8* w, const auto& tile) {
  GroupQ8_0(nb, w, tile);
};

}  // namespace

void PackedMatvecQ8_0(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                      float* y) {
  PackedMatvecOf<BlockQ8_0x8, kQK>(n_in, groups, n_groups, act, y, 128.0f, kGroupQ8_0);
}

void PackedGemmQ8_0(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                    int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy) {
  PackedGemmOf<BlockQ8_0x8, kQK>(n_in, groups, n_groups, act, act_row_bytes, n_tokens, y, ldy,
                                 128.0f, kGroupQ8_0);
}

}  // namespace dsinfer::kernels::avx512
