// AVX-512 VNNI gemm bodies of Q8_0 and Q4_0 weights with Q8_0 activations (prefill, MoE
// expert batches): tiles of 4 weight rows x 4 tokens, so each loaded weight block serves 4
// tokens and each activation block 4 rows, with 16 float accumulators in registers.
//
// Per block, the 32 products of a (row, token) pair are summed exactly in int32 by one 256-bit
// vpdpbusd, with the weight levels made unsigned by an offset instead of the dots' sign trick
// (which costs two vpsignb per pair, i.e. 32 per tile and block): u = q + o in 0..255 (Q8_0:
// q ^ 0x80, o = 128; Q4_0: the raw nibble, o = 8), and sum u * a - o * sum a = sum q * a.
// The correction -o * sum a depends only on the token, so it is computed once per token and
// block and fed in as vpdpbusd's accumulator input. No saturation anywhere: vpdpbusd adds its
// four u8 x s8 products into int32 without saturating, so unlike the sign trick this is exact
// for every byte value, -128 included.
// The sums are then scaled by d_w * d_a and accumulated in float lanes; only that order
// differs from the reference (same bound as the vec_dot, see simd_test.cc).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/x86/avx512/gemm.h"
#include "kernels/x86/gemm_tiling.h"
#include "quant/blocks.h"

namespace dsinfer::kernels::avx512 {
namespace {

constexpr int kTileRows = 4;
constexpr int kTileTokens = 4;

float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

float HorizontalSum(__m256 v) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

// Q8_0 levels as unsigned bytes q + 128.
struct Q8_0Weights {
  using Block = BlockQ8_0;
  static constexpr char kOffset = static_cast<char>(128);  // as an unsigned byte
  static __m256i Unsigned(const Block& b) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
    return _mm256_xor_si256(q, _mm256_set1_epi8(static_cast<char>(0x80)));
  }
};

// Q4_0 levels as the stored nibbles q (the value is q - 8), in element order: low nibbles are
// elements 0..15, high nibbles 16..31.
struct Q4_0Weights {
  using Block = BlockQ4_0;
  static constexpr char kOffset = 8;
  static __m256i Unsigned(const Block& b) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
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
    const __m256i offset = _mm256_set1_epi8(Weights::kOffset);
    const int64_t n_blocks = n_in / kQK;
    for (int64_t b = 0; b < n_blocks; ++b) {
      __m256i a[T];
      __m256i correction[T];  // -o * (sum of each 4 activation bytes)
      float da[T];
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        a[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar[t][b].qs));
        correction[t] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                         _mm256_dpbusd_epi32(_mm256_setzero_si256(), offset, a[t]));
        da[t] = HalfToFloat(ar[t][b].d);
      }
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const __m256i u = Weights::Unsigned(wr[r][b]);
        const __m256 dw = _mm256_set1_ps(HalfToFloat(wr[r][b].d));
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
          const __m256i sums = _mm256_dpbusd_epi32(correction[t], u, a[t]);
          acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums),
                                      _mm256_mul_ps(dw, _mm256_set1_ps(da[t])), acc[r][t]);
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

}  // namespace dsinfer::kernels::avx512
