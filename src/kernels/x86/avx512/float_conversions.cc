// AVX-512 activation quantisers for F16 and BF16 weights: float rows to F16 (vcvtps2ph, round
// to nearest even) and to BF16 (the reference's integer rounding, 16 lanes at a time), with the
// same bytes as quant/'s Fp32ToFp16 / Fp32ToBf16 for every input, NaN included: the hardware
// keeps a NaN's payload where the reference writes a canonical quiet NaN, so NaN lanes are
// replaced. A prefill of F16 weights converts every activation row once per matmul; the
// scalar reference took about 7 % of it.
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/avx512/kernels.h"

namespace dsinfer::kernels::avx512 {
namespace {

constexpr int kLanes = 16;

// The lanes of x that are NaN.
__mmask16 NanLanes(__m512 x) { return _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q); }

// The sign bits of u's lanes at bit 15 of 16-bit values.
__m256i SignsAsHalves(__m512i u) {
  return _mm512_cvtepi32_epi16(
      _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x8000)));
}

__m256i ToHalves(__m512 x) {
  const __m256i h = _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256i quiet = _mm256_or_si256(SignsAsHalves(_mm512_castps_si512(x)),
                                        _mm256_set1_epi16(0x7e00));  // ggml's quiet NaN
  return _mm256_mask_blend_epi16(NanLanes(x), h, quiet);
}

__m256i ToBf16(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i rounded =
      _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), odd)), 16);
  const __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(64));
  return _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(NanLanes(x), rounded, quiet));
}

template <typename Convert>
void ConvertRow(const float* x, uint16_t* y, int64_t n, Convert convert) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), convert(_mm512_loadu_ps(x + i)));
  }
  if (i < n) {
    const auto mask = static_cast<__mmask16>((1U << (n - i)) - 1);
    _mm256_mask_storeu_epi16(y + i, mask, convert(_mm512_maskz_loadu_ps(mask, x + i)));
  }
}

}  // namespace

void QuantizeF16(const float* x, void* out, int64_t n) {
  ConvertRow(x, static_cast<uint16_t*>(out), n, ToHalves);
}

void QuantizeBF16(const float* x, void* out, int64_t n) {
  ConvertRow(x, static_cast<uint16_t*>(out), n, ToBf16);
}

}  // namespace dsinfer::kernels::avx512
