// AVX-512 gemm of the lattice types (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M) with
// Q8_K activations: the avx2 body's decode (x86/iq_grid_decode_body.inc and
// iq_signed_grid_decode_body.inc), each decoded weight block then multiplied with a tile of up
// to 64 tokens two sub-blocks at a time in 512-bit registers (vpmaddubsw, vpdpwssd), two rows
// at a time (one activation load for both).
//
// Per (row, token, block) the reference's integer block sum is one vector of 16 int32 partial
// sums. Instead of reducing each on its own, 16 tokens' vectors of a row are reduced together,
// by a tree of pairwise folds, into one vector holding each token's sum in its lane; the float
// steps (d_w d_a, the type's term, the running sum) then run on the 16 tokens' lanes at once.
// (prefill_bench, 2048x7168, 1 thread: 140-145 GFLOP/s with one reduction per token and tiles
// of 16, 170-190 now.) Each lane does exactly the reference's scalar float operations, so every
// output is bit-identical to the reference dot, hence to the dot of every level.
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

// A block's integer product with one token, as 16 int32 partial sums (their total is the
// reference's block sum: every partial stays within int32, so the order does not matter).
template <int kAccScale>
__m512i Partials(const WideBlock& w, const BlockQ8_K& a, const __m512i (&q8)[kPairs]) {
  // Two accumulators: each vpdpwssd waits for the one before it in its chain.
  __m512i acc_even = _mm512_setzero_si512();
  __m512i acc_odd = _mm512_setzero_si512();
  for (int k = 0; k < kPairs; k += 2) {
    // vpmaddubsw pairs stay below saturation: codes <= 124, |q8| <= 128. vpdpwssd is
    // vpmaddwd plus the add, without saturation.
    acc_even = _mm512_dpwssd_epi32(acc_even, _mm512_maddubs_epi16(w.codes[k], q8[k]), w.scales[k]);
    acc_odd = _mm512_dpwssd_epi32(acc_odd, _mm512_maddubs_epi16(w.codes[k + 1], q8[k + 1]),
                                  w.scales[k + 1]);
  }
  __m512i acc = _mm512_add_epi32(acc_even, acc_odd);
  if constexpr (kAccScale == 8) {
    acc = _mm512_slli_epi32(acc, 3);
  } else {
    static_assert(kAccScale == 1);
  }
  const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums));
  return _mm512_sub_epi32(acc,
                          _mm512_zextsi256_si512(_mm256_madd_epi16(bsums, w.block.correction)));
}

// Folds two vectors of 16 lanes into one: lane j < 8 is x's lanes 2j + 2j+1, lane 8 + j y's.
__m512i Fold(__m512i x, __m512i y) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  return _mm512_add_epi32(_mm512_permutex2var_epi32(x, even, y),
                          _mm512_permutex2var_epi32(x, odd, y));
}

// The 16 tokens' partial-sum vectors -> one vector, token t's sum in lane t: four levels of
// Fold, each halving the vectors and doubling the tokens per vector (lanes stay in token
// order: after level L, a vector holds 2^L tokens with 16 / 2^L lanes each).
__m512i SumPerToken(__m512i (&v)[16]) {
  for (size_t n = 16; n > 1; n /= 2) {
    for (size_t i = 0; i < n / 2; ++i) v[i] = Fold(v[2 * i], v[2 * i + 1]);
  }
  return v[0];
}

// Tokens per tile: each decoded block serves this many tokens, in groups of 16 (one per lane
// of a group's sums). Decoding a block costs about as much as 16 tokens' products.
constexpr int kLanes = 16;
constexpr int kGroups = 4;
constexpr int64_t kTokenTile = int64_t{kLanes} * kGroups;
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
      const int groups = static_cast<int>((tile + kLanes - 1) / kLanes);
      __m512 sums[kRows][kGroups];
      for (auto& row : sums) {
        for (__m512& s : row) s = _mm512_setzero_ps();
      }
      for (int64_t i = 0; i < n_blocks; ++i) {
        for (int r = 0; r < rows; ++r) {
          const auto* x = reinterpret_cast<const typename Type::Block*>(w + (r0 + r) * w_row_bytes);
          Decode<Type>(x[i], decoded[r]);
        }
        for (int g = 0; g < groups; ++g) {
          __m512i partials[kRows][kLanes];
          alignas(64) float d_act[kLanes] = {};  // lanes past the tile stay 0: terms of 0
          for (int64_t l = 0; l < kLanes; ++l) {
            const int64_t t = int64_t{g} * kLanes + l;
            if (t >= tile) {
              for (auto& row : partials) row[l] = _mm512_setzero_si512();
              continue;
            }
            const auto* a = reinterpret_cast<const BlockQ8_K*>(act + (t0 + t) * act_row_bytes) + i;
            d_act[l] = a->d;
            __m512i q8[kPairs];
            for (int k = 0; k < kPairs; ++k) {
              q8[k] = _mm512_loadu_si512(a->qs + ptrdiff_t{kQK} * 2 * k);
            }
            for (int r = 0; r < rows; ++r) {
              partials[r][l] = Partials<Type::kAccScale>(decoded[r], *a, q8);
            }
          }
          const __m512 da = _mm512_load_ps(d_act);
          for (int r = 0; r < rows; ++r) {
            // Per lane: sum += (d_w d_a) (kTermScale product), the reference's Term.
            const __m512 d = _mm512_mul_ps(_mm512_set1_ps(decoded[r].block.d), da);
            const __m512 product = _mm512_cvtepi32_ps(SumPerToken(partials[r]));
            sums[r][g] = _mm512_add_ps(
                sums[r][g],
                _mm512_mul_ps(d, _mm512_mul_ps(_mm512_set1_ps(Type::kTermScale), product)));
          }
        }
      }
      for (int r = 0; r < rows; ++r) {
        alignas(64) float lane[kTokenTile];
        for (int g = 0; g < kGroups; ++g) _mm512_store_ps(lane + ptrdiff_t{kLanes} * g, sums[r][g]);
        for (int64_t t = 0; t < tile; ++t) y[(t0 + t) * ldy + r0 + r] = Type::Finish(lane[t]);
      }
    }
  }
}

}  // namespace

#include "kernels/x86/iq_grid_gemm_entries.inc"

}  // namespace dsinfer::kernels::avx512
