// AVX2 bodies over the x8 layouts: the shared loops of x86/packed_x8_body.inc with the
// unsigned x signed byte dot done by vpmaddubsw (exact: 4-bit levels) and vpmaddwd.
#include "kernels/x86/avx2/packed_x8.h"

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/packed_layout.h"
#include "quant/blocks.h"

namespace dsinfer::kernels::avx2 {
namespace {

inline __m256i DotAccU8S8(__m256i acc, __m256i u8, __m256i s8) {
  return _mm256_add_epi32(acc,
                          _mm256_madd_epi16(_mm256_maddubs_epi16(u8, s8), _mm256_set1_epi16(1)));
}

constexpr bool kDotTakesFullBytes = false;
// 2 tokens: 16 registers hold their integer and float accumulators and the weight vectors.
constexpr int kGemmTokens = 2;

}  // namespace

#include "kernels/x86/packed_x8_body.inc"

void PackedMatvecQ4_0(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                      float* y) {
  PackedMatvecOf<BlockQ4_0x8, kQK>(n_in, groups, n_groups, act, y, 8, kGroupQ4_0);
}

void PackedGemmQ4_0(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                    int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy) {
  PackedGemmOf<BlockQ4_0x8, kQK>(n_in, groups, n_groups, act, act_row_bytes, n_tokens, y, ldy, 8,
                                 kGroupQ4_0, kNoWide);
}

void PackedMatvecQ5_0(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                      float* y) {
  PackedMatvecOf<BlockQ5_0x8, kQK>(n_in, groups, n_groups, act, y, 16, kGroupQ5_0);
}

void PackedGemmQ5_0(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                    int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy) {
  PackedGemmOf<BlockQ5_0x8, kQK>(n_in, groups, n_groups, act, act_row_bytes, n_tokens, y, ldy, 16,
                                 kGroupQ5_0, kNoWide);
}

void PackedMatvecQ4_K(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                      float* y) {
  PackedMatvecOf<BlockQ4_Kx8, kQK_K>(n_in, groups, n_groups, act, y, 0, kGroupQ4_K);
}

void PackedGemmQ4_K(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                    int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy) {
  PackedGemmOf<BlockQ4_Kx8, kQK_K>(n_in, groups, n_groups, act, act_row_bytes, n_tokens, y, ldy, 0,
                                   kGroupQ4_K, kNoWide);
}

void PackedMatvecQ6_K(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                      float* y) {
  PackedMatvecOf<BlockQ6_Kx8, kQK_K>(n_in, groups, n_groups, act, y, 0, kGroupQ6_K);
}

void PackedGemmQ6_K(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                    int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy) {
  PackedGemmOf<BlockQ6_Kx8, kQK_K>(n_in, groups, n_groups, act, act_row_bytes, n_tokens, y, ldy, 0,
                                   kGroupQ6_K, kNoWide);
}

}  // namespace dsinfer::kernels::avx2
