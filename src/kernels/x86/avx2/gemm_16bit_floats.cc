// AVX2 gemm body of BF16 weights x BF16 activations (prefill, MoE expert batches): tiles of
// 2 weight rows x 4 tokens (8 float accumulators plus the widened operands fill the 16 ymm
// registers), 16 elements per step.
//
// A BF16 value is the top half of a float, so a 256-bit load of 16 BF16 is 8 dwords each
// holding an (even, odd) element pair; a shift left of 16 gives the even elements as floats,
// masking off the low half the odd ones. Each lane accumulates both elements of its pair with
// FMAs and the lanes are summed at the end; the last n_in % 16 elements are added in scalar
// code. The products are exact in float, so only the summation order differs from the
// reference (which accumulates in double): see the bound in gemm_test.cc.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/x86/avx2/gemm.h"
#include "kernels/x86/gemm_tiling.h"
#include "quant/half.h"

namespace dsinfer::kernels::avx2 {
namespace {

constexpr int kTileRows = 2;
constexpr int kTileTokens = 4;
constexpr int kStep = 16;  // BF16 elements per 256-bit load

float HorizontalSum(__m256 v) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

struct Bf16Pairs {
  __m256 even;
  __m256 odd;
};

Bf16Pairs Widen(const uint16_t* p) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return {
      _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)),
      _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(static_cast<int>(0xFFFF0000))))};
}

struct Bf16Tiles {
  int64_t n_in;
  const std::byte* w;
  int64_t w_row_bytes;
  const std::byte* act;
  int64_t act_row_bytes;
  float* y;
  int64_t ldy;

  template <int R, int T>
  void Tile(int64_t r0, int64_t t0) const {
    const uint16_t* wr[R];
    const uint16_t* ar[T];
    for (int r = 0; r < R; ++r) {
      wr[r] = reinterpret_cast<const uint16_t*>(w + (r0 + r) * w_row_bytes);
    }
    for (int t = 0; t < T; ++t) {
      ar[t] = reinterpret_cast<const uint16_t*>(act + (t0 + t) * act_row_bytes);
    }
    __m256 acc[R][T];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    }
    int64_t k = 0;
    for (; k + kStep <= n_in; k += kStep) {
      Bf16Pairs wv[R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) wv[r] = Widen(wr[r] + k);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const Bf16Pairs av = Widen(ar[t] + k);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          acc[r][t] = _mm256_fmadd_ps(wv[r].even, av.even, acc[r][t]);
          acc[r][t] = _mm256_fmadd_ps(wv[r].odd, av.odd, acc[r][t]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) {
        float sum = HorizontalSum(acc[r][t]);
        for (int64_t i = k; i < n_in; ++i) sum += Bf16ToFp32(wr[r][i]) * Bf16ToFp32(ar[t][i]);
        y[(t0 + t) * ldy + r0 + r] = sum;
      }
    }
  }
};

}  // namespace

void GemmBF16(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
              const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
              int64_t ldy) {
  const Bf16Tiles tiles{.n_in = n_in,
                        .w = w,
                        .w_row_bytes = w_row_bytes,
                        .act = act,
                        .act_row_bytes = act_row_bytes,
                        .y = y,
                        .ldy = ldy};
  x86::ForEachTile<kTileRows, kTileTokens>(tiles, n_rows, n_tokens, act_row_bytes);
}

}  // namespace dsinfer::kernels::avx2
