// AVX-512 (VNNI) bodies over the x8 layouts: the shared loops of x86/packed_x8_body.inc with
// vpdpbusd on 256-bit vectors (on this Zen 4 a 512-bit vpdpbusd is two 256-bit halves, and
// 256-bit keeps one row group per register), plus Q8_0, which needs VNNI's 32-bit
// accumulation of unsigned x signed bytes.
#include "kernels/x86/avx512/packed_x8.h"

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/packed_layout.h"
#include "quant/blocks.h"

namespace dsinfer::kernels::avx512 {
namespace {

inline __m256i DotAccU8S8(__m256i acc, __m256i u8, __m256i s8) {
  return _mm256_dpbusd_epi32(acc, u8, s8);
}

constexpr bool kDotTakesFullBytes = true;

}  // namespace

#include "kernels/x86/packed_x8_body.inc"

void PackedMatvecQ8_0(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                      float* y) {
  const int64_t nb = n_in / kQK;
  const auto* a = reinterpret_cast<const BlockQ8_0*>(act);
  thread_local std::vector<float> prep;
  prep.resize(static_cast<size_t>(2 * nb));
  PrepareQ8_0Offsets(a, nb, 128.0f, prep.data());
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
  const auto* w = reinterpret_cast<const BlockQ8_0x8*>(groups);
  for (int64_t g = 0; g < n_groups; ++g, w += nb) {
    __m256 acc = _mm256_setzero_ps();
    __m256 acc_offset = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const int8_t* q = a[b].qs;
      __m256i s0 = _mm256_setzero_si256();
      __m256i s1 = _mm256_setzero_si256();
      for (int64_t j = 0; j < 8; j += 2) {
        s0 = _mm256_dpbusd_epi32(s0, _mm256_xor_si256(Load32(w[b].qs[j]), bias),
                                 Broadcast32(q + 4 * j));
        s1 = _mm256_dpbusd_epi32(s1, _mm256_xor_si256(Load32(w[b].qs[j + 1]), bias),
                                 Broadcast32(q + 4 * j + 4));
      }
      const __m256 d_w = Halves8(w[b].d);
      const float* p = prep.data() + 2 * b;
      acc = _mm256_fmadd_ps(_mm256_mul_ps(d_w, _mm256_set1_ps(p[0])),
                            _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), acc);
      acc_offset = _mm256_fmadd_ps(d_w, _mm256_set1_ps(p[1]), acc_offset);
    }
    _mm256_storeu_ps(y + kPackRows * g, _mm256_add_ps(acc, acc_offset));
  }
}

}  // namespace dsinfer::kernels::avx512
