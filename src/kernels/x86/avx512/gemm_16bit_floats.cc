// AVX-512 gemm bodies of BF16 weights x BF16 activations and F16 x F16 (prefill, MoE expert
// batches), 4 weight rows x 4 tokens per tile.
//
// BF16: 512-bit vectors, 32 elements per step, 16 float accumulators. With no AVX512-BF16
// instruction (the avx512 level does not require it): a BF16 value is the top half of a
// float, so a 512-bit load of 32 BF16 is 16 dwords each holding an (even, odd) element pair,
// and two integer ops turn it into two float vectors: the even elements by a shift left of
// 16, the odd ones by masking off the low half. Each pair of vectors is multiplied lane by
// lane with the other operand's, so each lane accumulates both elements of its pair; the
// lanes are summed at the end. Any n_in: the last step loads a masked tail (zeros past the
// row).
//
// F16: the 256-bit tiles of x86/gemm_16bit_floats_256.inc, 4 rows by 4 tokens in 32
// registers. A 512-bit tile of the same shape widened with the 512-bit vcvtph2ps ran at 66
// GFLOP/s on one core here (prefill_bench, 2048x7168), the 256-bit one at 100. Widening the
// activations to float once per token chunk instead made it slower (88): the doubled
// activation bytes cost more than the conversions saved.
//
// The product of two BF16 or two F16 values (at most 22 significant bits, exponents within
// float's range) is exact in float, so only the summation order differs from the reference
// (which accumulates in double): |error| <= depth * 2^-24 * sum |w_i * a_i|, with depth about
// n_in / 16 + 16 for BF16 and n_in / 8 + 18 for F16's 256-bit lanes (see gemm_test.cc).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/x86/avx512/gemm.h"
#include "kernels/x86/gemm_tiling.h"
#include "quant/half.h"

namespace dsinfer::kernels::avx512 {
namespace {

constexpr int kTileRows = 4;
constexpr int kTileTokens = 4;
constexpr int kStep = 32;  // 16-bit values per 512-bit load

// 32 BF16 values as two float vectors (which element goes where does not matter: weights and
// activations are widened alike).
struct FloatPairs {
  __m512 first;
  __m512 second;
};

struct Bf16 {
  static FloatPairs Widen(__m512i v) {
    return {
        _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)),
        _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(static_cast<int>(0xFFFF0000))))};
  }
};

template <typename Format>
struct HalfTiles : x86::GemmOperands {
  // One step of kStep elements at k; `tail` loads only the first `mask` elements.
  template <int R, int T, bool kTail>
  static void Step(const uint16_t* const* wr, const uint16_t* const* ar, int64_t k, __mmask32 mask,
                   __m512 (&acc)[R][T]) {
    auto load = [&](const uint16_t* p) {
      if constexpr (kTail) return _mm512_maskz_loadu_epi16(mask, p + k);
      return _mm512_loadu_si512(p + k);
    };
    FloatPairs wv[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) wv[r] = Format::Widen(load(wr[r]));
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const FloatPairs av = Format::Widen(load(ar[t]));
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        acc[r][t] = _mm512_fmadd_ps(wv[r].first, av.first, acc[r][t]);
        acc[r][t] = _mm512_fmadd_ps(wv[r].second, av.second, acc[r][t]);
      }
    }
  }

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
    __m512 acc[R][T];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    }
    int64_t k = 0;
    for (; k + kStep <= n_in; k += kStep) Step<R, T, false>(wr, ar, k, ~__mmask32{0}, acc);
    if (k < n_in) {
      const auto mask = static_cast<__mmask32>((uint64_t{1} << (n_in - k)) - 1);
      Step<R, T, true>(wr, ar, k, mask, acc);
    }
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) y[(t0 + t) * ldy + r0 + r] = _mm512_reduce_add_ps(acc[r][t]);
    }
  }
};

#include "kernels/x86/gemm_16bit_floats_256.inc"

}  // namespace

void GemmBF16(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
              const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
              int64_t ldy) {
  x86::RunGemm<kTileRows, kTileTokens, HalfTiles<Bf16>>(n_in, w, w_row_bytes, n_rows, act,
                                                        act_row_bytes, n_tokens, y, ldy);
}

void GemmF16(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
             const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy) {
  GemmHalf256<F16x16, kTileRows>(n_in, w, w_row_bytes, n_rows, act, act_row_bytes, n_tokens, y,
                                 ldy);
}

}  // namespace dsinfer::kernels::avx512
