// AVX2 bodies over the x8 layouts: the shared loops of x86/packed_x8_body.inc with the
// unsigned x signed byte dot done by vpmaddubsw (exact: 4-bit levels, and IQ4_NL's signed
// levels with their sign moved onto the activation) and vpmaddwd, and a Q8_0 tile of its own
// (sign moved onto the activation too).
#include "kernels/x86/avx2/packed_x8.h"

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "base/check.h"
#include "kernels/packed_layout.h"
#include "kernels/x86/read_ahead.h"
#include "platform/memory_bandwidth.h"
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

namespace {

// One group of 8 Q8_0 rows against T tokens. The biased weight (q + 128, up to 255) that the
// avx512 tile feeds vpdpbusd would overflow vpmaddubsw's 16-bit pair sums here, so the weight's
// sign moves onto the activation instead: |q| * (sign(q) a), a pair at most 2 * 128 * 127.
// No offset term then; the activation's scale comes from its block.
template <int T>
void GroupQ8_0(int64_t nb, const BlockQ8_0x8* w, const TokenTile<T>& tile) {
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchAhead(w + b);
    const BlockQ8_0* a[T];
    for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_0*>(tile.act[t]) + b;
    __m256i sum[T];
    for (int t = 0; t < T; ++t) sum[t] = _mm256_setzero_si256();
    for (int64_t j = 0; j < 8; ++j) {
      const __m256i v = Load32(w[b].qs[j]);
      const __m256i magnitude = _mm256_sign_epi8(v, v);  // -128 stays 0x80: 128 unsigned
      for (int t = 0; t < T; ++t) {
        const __m256i signed_a = _mm256_sign_epi8(Broadcast32(a[t]->qs + 4 * j), v);
        sum[t] = DotAccU8S8(sum[t], magnitude, signed_a);
      }
    }
    const __m256 d_w = Halves8(w[b].d);
    for (int t = 0; t < T; ++t) {
      acc[t] = AccumulateScaled(acc[t], d_w, _cvtsh_ss(a[t]->d), sum[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(tile.y[t], acc[t]);
}

constexpr auto kGroupQ8_0 = [](int64_t nb, const BlockQ8_0x8* w, const auto& tile) {
  GroupQ8_0(nb, w, tile);
};

}  // namespace

PackedBodies PackedBodiesFor(DType dtype) {
  switch (dtype) {
    case DType::kQ4_0: return BodiesOf<BlockQ4_0x8, kQK, 8, 1>(kGroupQ4_0, kNoWide);
    case DType::kQ5_0: return BodiesOf<BlockQ5_0x8, kQK, 16, 1>(kGroupQ5_0, kNoWide);
    case DType::kQ4_1: return BodiesOf<BlockQ4_1x8, kQK, 0, 1>(kGroupQ4_1, kNoWide);
    case DType::kQ5_1: return BodiesOf<BlockQ5_1x8, kQK, 0, 1>(kGroupQ5_1, kNoWide);
    case DType::kIQ4_NL:  // signed code-book levels, the sign moved onto the activation
      return BodiesOf<BlockIQ4_NLx8, kQK, 0, 1>(kGroupIQ4_NL, kNoWide);
    case DType::kQ8_0: return BodiesOf<BlockQ8_0x8, kQK, 0, 1>(kGroupQ8_0, kNoWide);
    case DType::kIQ4_XS: return BodiesOf<BlockIQ4_XSx8, kQK_K, 0, 1>(kGroupIQ4_XS, kNoWide);
    case DType::kQ2_K: return BodiesOf<BlockQ2_Kx8, kQK_K, 0, 1>(kGroupQ2_K, kNoWide);
    case DType::kQ3_K: return BodiesOf<BlockQ3_Kx8, kQK_K, 0, 1>(kGroupQ3_K, kNoWide);
    case DType::kQ4_K: return BodiesOf<BlockQ4_Kx8, kQK_K, 0, 1>(kGroupQ4_K, kNoWide);
    case DType::kQ5_K: return BodiesOf<BlockQ5_Kx8, kQK_K, 0, 1>(kGroupQ5_K, kNoWide);
    case DType::kQ6_K: return BodiesOf<BlockQ6_Kx8, kQK_K, 0, 1>(kGroupQ6_K, kNoWide);
    default: return {};
  }
}

}  // namespace dsinfer::kernels::avx2
