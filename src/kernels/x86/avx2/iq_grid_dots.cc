// AVX2 dots and gemm of the lattice types (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M)
// with Q8_K activations, bit-identical to quant_ref's dots (x86/iq_grid_decode_body.inc says
// how). The gemm (prefill,
// expert batches) decodes each weight block once per tile of 16 tokens instead of once per
// token, which is what costs here, and gives every token exactly what the dot gives it alone.
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

// Tokens per tile: each decoded block serves this many tokens (their Q8_K blocks, 4.6 KiB,
// stay in L1 while the row's blocks go by).
constexpr int64_t kTokenTile = 16;

template <typename Type>
void Gemm(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
          const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy) {
  const int64_t n_blocks = n_in / kQK_K;
  // Kept as two arrays of vectors: GCC copies an array of SubBlockCodes in 16-byte halves,
  // and the 32-byte loads that follow then miss store forwarding (4x slower).
  __m256i codes[kSubBlocks];
  __m256i scales[kSubBlocks];
  const auto code = [&](int ib) { return SubBlockCodes{codes[ib], scales[ib]}; };
  for (int64_t r = 0; r < n_rows; ++r) {
    const auto* x = reinterpret_cast<const typename Type::Block*>(w + r * w_row_bytes);
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenTile) {
      const int64_t tile = std::min(kTokenTile, n_tokens - t0);
      float sums[kTokenTile] = {};
      for (int64_t i = 0; i < n_blocks; ++i) {
        const typename Type::State state = Type::Prepare(x[i]);
        for (int ib = 0; ib < kSubBlocks; ++ib) {
          const SubBlockCodes sub = Type::SubBlock(x[i], state, ib);
          codes[ib] = sub.codes;
          scales[ib] = sub.scales;
        }
        for (int64_t t = 0; t < tile; ++t) {
          const auto* a = reinterpret_cast<const BlockQ8_K*>(act + (t0 + t) * act_row_bytes) + i;
          sums[t] += Term<Type>(state.d * a->d, BlockProduct<Type::kAccScale>(code, state, *a));
        }
      }
      for (int64_t t = 0; t < tile; ++t) y[(t0 + t) * ldy + r] = Type::Finish(sums[t]);
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
