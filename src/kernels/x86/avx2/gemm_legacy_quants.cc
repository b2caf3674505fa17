// AVX2 gemm bodies of Q8_0 and Q4_0 weights with Q8_0 activations (prefill, MoE expert
// batches): tiles of 2 weight rows x 4 tokens (8 float accumulators: with the operands that
// fills the 16 ymm registers), so each loaded weight block serves 4 tokens and each
// activation block 2 rows.
//
// Per block, the 32 products of a (row, token) pair are summed exactly in int32 by the sign
// trick of the dots (legacy_quants.cc): |w| as u8 times a with w's sign moved onto it,
// vpmaddubsw then vpmaddwd. |w| is computed once per row and block; only the vpsignb is per
// pair. (The unsigned-offset form of the AVX-512 gemm does not fit vpmaddubsw: (q + 128) * a
// pair sums reach 64770 and would saturate int16.) Same saturation limit as the dots: a pair
// of -128 bytes on both sides, which no quantiser writes. The sums are then scaled by
// d_w * d_a and accumulated in float lanes; only that order differs from the reference.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/x86/avx2/gemm.h"
#include "kernels/x86/gemm_tiling.h"
#include "quant/blocks.h"

namespace dsinfer::kernels::avx2 {
namespace {

constexpr int kTileRows = 2;
constexpr int kTileTokens = 4;

float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

float HorizontalSum(__m256 v) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

struct Q8_0Weights {
  using Block = BlockQ8_0;
  static __m256i Levels(const Block& b) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
  }
};

// Signed levels q - 8 in element order: low nibbles are elements 0..15, high nibbles 16..31.
struct Q4_0Weights {
  using Block = BlockQ4_0;
  static __m256i Levels(const Block& b) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
    return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
  }
};

template <typename Weights>
struct Int8Tiles : x86::GemmOperands {
  template <int R, int T>
  void Tile(int64_t r0, int64_t t0) const {
    using WBlock = typename Weights::Block;
    const WBlock* wr[R];
    const BlockQ8_0* ar[T];
    for (int r = 0; r < R; ++r) {
      wr[r] = reinterpret_cast<const WBlock*>(w + (r0 + r) * w_row_bytes);
    }
    for (int t = 0; t < T; ++t) {
      ar[t] = reinterpret_cast<const BlockQ8_0*>(act + (t0 + t) * act_row_bytes);
    }
    __m256 acc[R][T];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    }
    const __m256i ones = _mm256_set1_epi16(1);
    const int64_t n_blocks = n_in / kQK;
    for (int64_t b = 0; b < n_blocks; ++b) {
      __m256i q[R];
      __m256i abs_q[R];
      float dw[R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        q[r] = Weights::Levels(wr[r][b]);
        abs_q[r] = _mm256_sign_epi8(q[r], q[r]);
        dw[r] = HalfToFloat(wr[r][b].d);
      }
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar[t][b].qs));
        const float da = HalfToFloat(ar[t][b].d);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const __m256i pairs = _mm256_maddubs_epi16(abs_q[r], _mm256_sign_epi8(a, q[r]));
          const __m256i sums = _mm256_madd_epi16(pairs, ones);
          acc[r][t] =
              _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(dw[r] * da), acc[r][t]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) y[(t0 + t) * ldy + r0 + r] = HorizontalSum(acc[r][t]);
    }
  }
};

}  // namespace

void GemmQ8_0(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
              const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
              int64_t ldy) {
  x86::RunGemm<kTileRows, kTileTokens, Int8Tiles<Q8_0Weights>>(n_in, w, w_row_bytes, n_rows, act,
                                                               act_row_bytes, n_tokens, y, ldy);
}

void GemmQ4_0(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
              const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
              int64_t ldy) {
  x86::RunGemm<kTileRows, kTileTokens, Int8Tiles<Q4_0Weights>>(n_in, w, w_row_bytes, n_rows, act,
                                                               act_row_bytes, n_tokens, y, ldy);
}

}  // namespace dsinfer::kernels::avx2
