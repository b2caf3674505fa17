// AVX-512 gemm of the lattice types (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M) with
// Q8_K activations: the avx2 body's decode (x86/iq_grid_decode_body.inc and
// iq_signed_grid_decode_body.inc), with each decoded weight block's product taken
// two sub-blocks at a time in 512-bit registers, and two rows' decoded blocks against each
// token's activations (one activation load for both). Per output the same integer block sums
// and float steps as the reference dot: bit-identical to it, hence to the dot of every level.
//
// Thread safety: pure functions over caller-owned memory.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/x86/avx512/gemm.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/iq_grids.h"

namespace dsinfer::kernels::avx512 {
namespace {

#include "kernels/x86/iq_grid_decode_body.inc"
#include "kernels/x86/iq_signed_grid_decode_body.inc"

constexpr int kPairs = kSubBlocks / 2;  // 512-bit steps per block

// One row's block decoded for 512-bit products: sub-blocks 2k and 2k + 1 in codes[k].
struct WideBlock {
  __m512i codes[kPairs];
  __m512i scales[kPairs];
  BlockScales block;
};

template <typename Type>
void Decode(const typename Type::Block& b, WideBlock& out) {
  const typename Type::State state = Type::Prepare(b);
  for (int k = 0; k < kPairs; ++k) {
    const SubBlockCodes lo = Type::SubBlock(b, state, 2 * k);
    const SubBlockCodes hi = Type::SubBlock(b, state, 2 * k + 1);
    out.codes[k] = _mm512_inserti64x4(_mm512_castsi256_si512(lo.codes), hi.codes, 1);
    out.scales[k] = _mm512_inserti64x4(_mm512_castsi256_si512(lo.scales), hi.scales, 1);
  }
  out.block = state;
}

template <int kAccScale>
int32_t Product(const WideBlock& w, const BlockQ8_K& a) {
  __m512i acc = _mm512_setzero_si512();
  for (int k = 0; k < kPairs; ++k) {
    const __m512i q8 = _mm512_loadu_si512(a.qs + ptrdiff_t{kQK} * 2 * k);
    // vpmaddubsw pairs stay below saturation: codes <= 124, |q8| <= 128.
    acc =
        _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(w.codes[k], q8), w.scales[k]));
  }
  // The bsums correction joins the lanes before the one reduction (every partial sum stays
  // within int32, so the order does not matter).
  const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums));
  const __m512i correction = _mm512_zextsi256_si512(_mm256_madd_epi16(bsums, w.block.correction));
  return _mm512_reduce_add_epi32(
      _mm512_sub_epi32(_mm512_mullo_epi32(acc, _mm512_set1_epi32(kAccScale)), correction));
}

// Tokens per tile: each decoded block serves this many tokens.
constexpr int64_t kTokenTile = 16;
constexpr int kRows = 2;  // rows decoded together, sharing each activation load

template <typename Type>
void Gemm(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
          const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy) {
  const int64_t n_blocks = n_in / kQK_K;
  WideBlock decoded[kRows];
  for (int64_t r0 = 0; r0 < n_rows; r0 += kRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kRows, n_rows - r0));
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenTile) {
      const int64_t tile = std::min(kTokenTile, n_tokens - t0);
      float sums[kRows][kTokenTile] = {};
      for (int64_t i = 0; i < n_blocks; ++i) {
        for (int r = 0; r < rows; ++r) {
          const auto* x = reinterpret_cast<const typename Type::Block*>(w + (r0 + r) * w_row_bytes);
          Decode<Type>(x[i], decoded[r]);
        }
        for (int64_t t = 0; t < tile; ++t) {
          const auto* a = reinterpret_cast<const BlockQ8_K*>(act + (t0 + t) * act_row_bytes) + i;
          for (int r = 0; r < rows; ++r) {
            sums[r][t] +=
                Type::Term(decoded[r].block.d * a->d, Product<Type::kAccScale>(decoded[r], *a));
          }
        }
      }
      for (int r = 0; r < rows; ++r) {
        for (int64_t t = 0; t < tile; ++t) y[(t0 + t) * ldy + r0 + r] = Type::Finish(sums[r][t]);
      }
    }
  }
}

}  // namespace

#include "kernels/x86/iq_grid_gemm_entries.inc"

}  // namespace dsinfer::kernels::avx512
