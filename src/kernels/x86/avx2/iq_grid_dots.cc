// AVX2 dots and gemm of the lattice types (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M)
// with Q8_K activations, bit-identical to quant_ref's dots (x86/iq_grid_decode_body.inc says
// how). The gemm (prefill, expert batches) decodes each weight block once per tile of 64
// tokens instead of once per token, which is what costs here, and reduces 8 tokens' partial
// sums at once (the avx512 gemm's scheme at half the width), each lane doing the reference's
// float steps, so every token gets exactly what the dot gives it alone.
//
// These bodies are bound by instruction count, not memory: the grid loads cannot be vector
// loads. What paid (kernels_bench, 7168x2048, one thread): IQ2_XXS's signs from a 128-entry
// mask table instead of popcounts (2.1 -> 3.3 GB/s); the IQ1 indices built for a whole block
// with vector shifts instead of per group (IQ1_S 2.5 -> 3.4); IQ1_M's delta folded into the
// level codes and its scales unpacked once per block (1.4 -> 3.0). Gathering the grid entries
// with vpgatherdq instead was slower (2.4 against 3.3 for IQ2_XXS). The dot (decode) reduces
// 8 blocks' partial sums together instead of two horizontal sums per block, and each
// sub-block's scales are one vpshufb with a constant mask: 7168x2048 rows, one thread, cache
// warm, against ggml's AVX2 dots on the same bytes, IQ2_S went from 0.73x to 0.87x, IQ1_M
// from 0.70x to 0.78x, the others 3-12 % faster; IQ1_M's codes from a grid of 8 g + 9 and its
// deltas from a 16-entry table then took it to 0.87x.
//
// Thread safety: pure functions over caller-owned memory.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/x86/avx2/gemm.h"
#include "kernels/x86/avx2/kernels.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/iq_grids.h"

namespace dsinfer::kernels::avx2 {
namespace {

#include "kernels/x86/iq_grid_decode_body.inc"
#include "kernels/x86/iq_signed_grid_decode_body.inc"

// 8 partial-sum vectors -> one vector, vector l's sum in lane l (the gemm's tokens, the dot's
// blocks): two levels of vphaddd leave each 128-bit half with the four vectors' half sums,
// and the halves are then added.
__m256i SumPerLane(const __m256i (&v)[8]) {
  const __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
  const __m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
  // a = [v0 v1 v2 v3 | v0 v1 v2 v3] (low and high halves' sums), b the same for v4..v7.
  return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20),
                          _mm256_permute2x128_si256(a, b, 0x31));
}

// One token: each sub-block's codes go straight into the product, and the blocks' partial
// sums are reduced 8 at a time (block l of a run in lane l), so that a block costs no
// horizontal sum of its own; the terms are then added in block order, the reference's float
// steps.
template <typename Type>
float Dot(int64_t n, const void* w, const void* q8_k) {
  constexpr int kBlocks = 8;  // one per lane of a reduction
  const auto* x = static_cast<const typename Type::Block*>(w);
  const auto* a = static_cast<const BlockQ8_K*>(q8_k);
  const int64_t n_blocks = n / kQK_K;
  float sum = 0;
  for (int64_t i0 = 0; i0 < n_blocks; i0 += kBlocks) {
    const int count = static_cast<int>(std::min<int64_t>(kBlocks, n_blocks - i0));
    __m256i partials[kBlocks];
    alignas(32) float d[kBlocks] = {};
    for (int l = 0; l < kBlocks; ++l) {
      if (l >= count) {
        partials[l] = _mm256_setzero_si256();
        continue;
      }
      const typename Type::Block& block = x[i0 + l];
      const typename Type::State state = Type::Prepare(block);
      partials[l] = BlockPartials<Type::kAccScale>(
          [&](int ib) { return Type::SubBlock(block, state, ib); }, state, a[i0 + l]);
      d[l] = state.d * a[i0 + l].d;
    }
    alignas(32) float terms[kBlocks];
    _mm256_store_ps(terms, Terms<Type>(_mm256_load_ps(d), SumPerLane(partials)));
    for (int l = 0; l < count; ++l) sum += terms[l];
  }
  return Type::Finish(sum);
}

// Tokens per tile: each decoded block serves this many, in groups of 8 (one per lane of a
// group's sums); their Q8_K blocks, 18 KiB, stay near while the row's blocks go by.
constexpr int kLanes = 8;
constexpr int kGroups = 8;
constexpr int64_t kTokenTile = int64_t{kLanes} * kGroups;

template <typename Type>
void Gemm(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
          const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy) {
  const int64_t n_blocks = n_in / kQK_K;
  // Kept as two arrays of vectors: GCC copies an array of SubBlockCodes in 16-byte halves,
  // and the 32-byte loads that follow then miss store forwarding (4x slower).
  __m256i codes[kSubBlocks];
  __m256i scales[kSubBlocks];
  for (int64_t r = 0; r < n_rows; ++r) {
    const auto* x = reinterpret_cast<const typename Type::Block*>(w + r * w_row_bytes);
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenTile) {
      const int64_t tile = std::min(kTokenTile, n_tokens - t0);
      const int groups = static_cast<int>((tile + kLanes - 1) / kLanes);
      __m256 sums[kGroups];
      for (__m256& s : sums) s = _mm256_setzero_ps();
      for (int64_t i = 0; i < n_blocks; ++i) {
        const typename Type::State state = Type::Prepare(x[i]);
// Unrolled: each sub-block's scale masks are then constants (SubBlockScales).
#pragma GCC unroll 8
        for (int ib = 0; ib < kSubBlocks; ++ib) {
          const SubBlockCodes sub = Type::SubBlock(x[i], state, ib);
          codes[ib] = sub.codes;
          scales[ib] = sub.scales;
        }
        for (int g = 0; g < groups; ++g) {
          __m256i partials[kLanes];
          alignas(32) float d_act[kLanes] = {};  // lanes past the tile stay 0: terms of 0
          for (int l = 0; l < kLanes; ++l) {
            const int64_t t = int64_t{g} * kLanes + l;
            if (t >= tile) {
              partials[l] = _mm256_setzero_si256();
              continue;
            }
            const auto* a = reinterpret_cast<const BlockQ8_K*>(act + (t0 + t) * act_row_bytes) + i;
            d_act[l] = a->d;
            partials[l] = BlockPartials<Type::kAccScale>(
                [&](int ib) {
                  return SubBlockCodes{codes[ib], scales[ib]};
                },
                state, *a);
          }
          const __m256 d = _mm256_mul_ps(_mm256_set1_ps(state.d), _mm256_load_ps(d_act));
          sums[g] = _mm256_add_ps(sums[g], Terms<Type>(d, SumPerLane(partials)));
        }
      }
      alignas(32) float lane[kTokenTile];
      for (int g = 0; g < kGroups; ++g) _mm256_store_ps(lane + ptrdiff_t{kLanes} * g, sums[g]);
      for (int64_t t = 0; t < tile; ++t) y[(t0 + t) * ldy + r] = Type::Finish(lane[t]);
    }
  }
}

}  // namespace

float DotIQ2_XXS(int64_t n, const void* w, const void* q8_k) { return Dot<Iq2xxs>(n, w, q8_k); }
float DotIQ1_S(int64_t n, const void* w, const void* q8_k) { return Dot<Iq1s>(n, w, q8_k); }
float DotIQ1_M(int64_t n, const void* w, const void* q8_k) { return Dot<Iq1m>(n, w, q8_k); }
float DotIQ2_XS(int64_t n, const void* w, const void* q8_k) { return Dot<Iq2xs>(n, w, q8_k); }
float DotIQ2_S(int64_t n, const void* w, const void* q8_k) { return Dot<Iq2s>(n, w, q8_k); }
float DotIQ3_XXS(int64_t n, const void* w, const void* q8_k) { return Dot<Iq3xxs>(n, w, q8_k); }
float DotIQ3_S(int64_t n, const void* w, const void* q8_k) { return Dot<Iq3s>(n, w, q8_k); }

#include "kernels/x86/iq_grid_gemm_entries.inc"

}  // namespace dsinfer::kernels::avx2
