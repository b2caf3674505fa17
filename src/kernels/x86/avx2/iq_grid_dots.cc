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
// with vpgatherdq instead was slower (2.4 against 3.3 for IQ2_XXS).
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

// One token: each sub-block's codes go straight into the product.
template <typename Type>
float Dot(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const typename Type::Block*>(w);
  const auto* a = static_cast<const BlockQ8_K*>(q8_k);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const typename Type::State state = Type::Prepare(x[i]);
    const auto code = [&](int ib) { return Type::SubBlock(x[i], state, ib); };
    sum += Term<Type>(state.d * a[i].d, BlockProduct<Type::kAccScale>(code, state, a[i]));
  }
  return Type::Finish(sum);
}

// A block's integer product with one token as 8 int32 partial sums (their total is the
// reference's block sum; every partial stays within int32, so the order does not matter).
template <int kAccScale>
__m256i Partials(const __m256i* codes, const __m256i* scales, const BlockScales& block,
                 const BlockQ8_K& a) {
  __m256i acc_even = _mm256_setzero_si256();  // two chains of adds
  __m256i acc_odd = _mm256_setzero_si256();
  for (int ib = 0; ib < kSubBlocks; ib += 2) {
    const auto* q8 = reinterpret_cast<const __m256i*>(a.qs + ptrdiff_t{kQK} * ib);
    // vpmaddubsw pairs stay below saturation: codes <= 124, |q8| <= 128.
    acc_even = _mm256_add_epi32(
        acc_even,
        _mm256_madd_epi16(_mm256_maddubs_epi16(codes[ib], _mm256_loadu_si256(q8)), scales[ib]));
    acc_odd = _mm256_add_epi32(
        acc_odd, _mm256_madd_epi16(_mm256_maddubs_epi16(codes[ib + 1], _mm256_loadu_si256(q8 + 1)),
                                   scales[ib + 1]));
  }
  __m256i acc = _mm256_add_epi32(acc_even, acc_odd);
  if constexpr (kAccScale == 8) {
    acc = _mm256_slli_epi32(acc, 3);
  } else {
    static_assert(kAccScale == 1);
  }
  const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums));
  return _mm256_sub_epi32(acc, _mm256_madd_epi16(bsums, block.correction));
}

// 8 tokens' partial-sum vectors -> one vector, token t's sum in lane t: two levels of vphaddd
// leave each 128-bit half with the four tokens' half sums, and the halves are then added.
__m256i SumPerToken(const __m256i (&v)[8]) {
  const __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
  const __m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
  // a = [t0 t1 t2 t3 | t0 t1 t2 t3] (low and high halves' sums), b the same for t4..t7.
  return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20),
                          _mm256_permute2x128_si256(a, b, 0x31));
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
            partials[l] = Partials<Type::kAccScale>(codes, scales, state, *a);
          }
          // Per lane: sum += (d_w d_a) (kTermScale product), the reference's Term.
          const __m256 d = _mm256_mul_ps(_mm256_set1_ps(state.d), _mm256_load_ps(d_act));
          const __m256 product = _mm256_cvtepi32_ps(SumPerToken(partials));
          sums[g] = _mm256_add_ps(
              sums[g], _mm256_mul_ps(d, _mm256_mul_ps(_mm256_set1_ps(Type::kTermScale), product)));
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
