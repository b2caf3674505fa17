// AVX2 activation quantisers for F16 and BF16 weights: float rows to F16 (vcvtps2ph, round
// to nearest even) and to BF16 (the reference's integer rounding, 8 lanes at a time), with the
// same bytes as quant/'s Fp32ToFp16 / Fp32ToBf16 for every input, NaN included: the hardware
// keeps a NaN's payload where the reference writes a canonical quiet NaN, so NaN lanes are
// replaced. The last n % 8 values take the scalar reference.
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/avx2/kernels.h"
#include "quant/half.h"

namespace dsinfer::kernels::avx2 {
namespace {

constexpr int kLanes = 8;

__m256i NanLanes(__m256 x) { return _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)); }

// 8 int32 lanes, each at most 0xFFFF, as 8 uint16 in order.
__m128i Narrow(__m256i v) {
  const __m256i packed = _mm256_packus_epi32(v, v);  // per 128-bit lane: 0..3 0..3 4..7 4..7
  return _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08));
}

__m128i ToHalves(__m256 x) {
  const __m128i h = _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256i u = _mm256_castps_si256(x);
  const __m256i quiet =
      _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x8000)),
                      _mm256_set1_epi32(0x7e00));  // ggml's quiet NaN
  const __m128i nan = Narrow(_mm256_and_si256(NanLanes(x), _mm256_set1_epi32(0xFFFF)));
  return _mm_blendv_epi8(h, Narrow(quiet), nan);
}

__m128i ToBf16(__m256 x) {
  const __m256i u = _mm256_castps_si256(x);
  const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i rounded =
      _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), odd)), 16);
  const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(64));
  return Narrow(_mm256_blendv_epi8(rounded, quiet, NanLanes(x)));
}

template <typename Convert, typename Scalar>
void ConvertRow(const float* x, uint16_t* y, int64_t n, Convert convert, Scalar scalar) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), convert(_mm256_loadu_ps(x + i)));
  }
  for (; i < n; ++i) y[i] = scalar(x[i]);
}

}  // namespace

void QuantizeF16(const float* x, void* out, int64_t n) {
  ConvertRow(x, static_cast<uint16_t*>(out), n, ToHalves, Fp32ToFp16);
}

void QuantizeBF16(const float* x, void* out, int64_t n) {
  ConvertRow(x, static_cast<uint16_t*>(out), n, ToBf16, Fp32ToBf16);
}

}  // namespace dsinfer::kernels::avx2
