// AVX2 dots of the lattice types (IQ2_XXS, IQ1_S, IQ1_M) with Q8_K activations, bit-identical
// to quant_ref's: each 256-element block's integer sums are exact here too, and the float steps
// per block are the reference's, in its order.
//
// A group of 8 weights is one grid entry (iq_grids.h), loaded as a u64; four make a 32-byte
// vector per sub-block. vpmaddubsw needs one unsigned operand, so the weight levels are made
// non-negative by an offset c (IQ2_XXS: signed levels -43..43 plus 43; IQ1: -1..1 plus 1) and
// c times the sub-block's activation sum (Q8_K's bsums) is taken off again as an integer.
// That keeps activations of -128 exact, which negating them (vpsignb) would not.
//
// Thread safety: pure functions over caller-owned memory.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/x86/avx2/kernels.h"
#include "quant/blocks.h"
#include "quant/half.h"
#include "quant/iq_grids.h"

namespace dsinfer::kernels::avx2 {
namespace {

constexpr int kSubBlocks = kQK_K / kQK;

__m256i Grid4(const std::array<uint64_t, 256>& grid, uint32_t indices) {
  return _mm256_set_epi64x(static_cast<int64_t>(grid[indices >> 24]),
                           static_cast<int64_t>(grid[(indices >> 16) & 0xFF]),
                           static_cast<int64_t>(grid[(indices >> 8) & 0xFF]),
                           static_cast<int64_t>(grid[indices & 0xFF]));
}

__m256i Grid4(const std::array<uint64_t, 2048>& grid, int i0, int i1, int i2, int i3) {
  return _mm256_set_epi64x(static_cast<int64_t>(grid[i3]), static_cast<int64_t>(grid[i2]),
                           static_cast<int64_t>(grid[i1]), static_cast<int64_t>(grid[i0]));
}

// 32 sign bits (bit k: element k negated) as 32 bytes of -1 or +1.
__m256i SignBytes(uint32_t bits) {
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)),
                          _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2,
                                           2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ULL));
  const __m256i negated = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
  return _mm256_or_si256(negated, _mm256_set1_epi8(1));
}

// Sum of the eight int32 lanes (exact: callers keep it within int32).
int32_t HorizontalSum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// sum_k u[k] * q8[k] * scale[k / 2 / 8 lanes]: vpmaddubsw pairs (|.| <= 2 * 255 * 128 would
// saturate, so callers keep u <= 86), then vpmaddwd by the per-lane scales.
__m256i ScaledProducts(__m256i u, __m256i q8, __m256i scales) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, q8), scales);
}

// The activations' sum over sub-block ib (its two 16-element bsums).
int32_t PairSum(const BlockQ8_K& a, int ib) {
  const int16_t* pair = a.bsums + ptrdiff_t{2} * ib;
  return pair[0] + pair[1];
}

}  // namespace

float DotIQ2_XXS(int64_t n, const void* w, const void* q8_k) {
  const auto& grid = Iq2xxsGrid();
  constexpr int kOffset = 43;  // the largest grid magnitude
  const auto* x = static_cast<const BlockIQ2_XXS*>(w);
  const auto* a = static_cast<const BlockQ8_K*>(q8_k);
  const __m256i offset = _mm256_set1_epi8(kOffset);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = Fp16ToFp32(x[i].d) * a[i].d;
    __m256i acc = _mm256_setzero_si256();
    int32_t correction = 0;
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      uint32_t words[2];
      std::memcpy(words, x[i].qs + ptrdiff_t{4} * ib, sizeof(words));
      const uint32_t signs = Iq2Signs(words[1]) | (Iq2Signs(words[1] >> 7) << 8) |
                             (Iq2Signs(words[1] >> 14) << 16) |
                             (static_cast<uint32_t>(Iq2Signs(words[1] >> 21)) << 24);
      const int32_t ls = static_cast<int32_t>(2 * (words[1] >> 28) + 1);
      const __m256i levels = _mm256_sign_epi8(Grid4(grid, words[0]), SignBytes(signs));
      const __m256i q8 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[i].qs + ptrdiff_t{kQK} * ib));
      acc = _mm256_add_epi32(acc, ScaledProducts(_mm256_add_epi8(levels, offset), q8,
                                                 _mm256_set1_epi16(static_cast<int16_t>(ls))));
      correction += ls * kOffset * PairSum(a[i], ib);
    }
    sum += d * static_cast<float>(HorizontalSum(acc) - correction);
  }
  return 0.125F * sum;
}

float DotIQ1_S(int64_t n, const void* w, const void* q8_k) {
  const auto& grid = Iq1sGrid();
  const auto* x = static_cast<const BlockIQ1_S*>(w);
  const auto* a = static_cast<const BlockQ8_K*>(q8_k);
  const __m256i one = _mm256_set1_epi8(1);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    __m256i acc = _mm256_setzero_si256();
    int32_t correction = 0;
    int32_t delta_sum = 0;
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      const uint32_t qh = x[i].qh[ib];
      const uint8_t* qs = x[i].qs + ptrdiff_t{4} * ib;
      const auto index = [&](int l) {
        return static_cast<int>(qs[l] | (((qh >> (3 * l)) & 7) << 8));
      };
      const int32_t ls = static_cast<int32_t>(2 * ((qh >> 12) & 7) + 1);
      const __m256i levels = Grid4(grid, index(0), index(1), index(2), index(3));
      const __m256i q8 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[i].qs + ptrdiff_t{kQK} * ib));
      acc = _mm256_add_epi32(acc, ScaledProducts(_mm256_add_epi8(levels, one), q8,
                                                 _mm256_set1_epi16(static_cast<int16_t>(ls))));
      const int32_t acts = PairSum(a[i], ib);
      correction += ls * acts;
      delta_sum += (qh & 0x8000) != 0 ? -ls * acts : ls * acts;
    }
    const int32_t level_sum = HorizontalSum(acc) - correction;
    sum += Fp16ToFp32(x[i].d) * a[i].d *
           (static_cast<float>(level_sum) + kIq1Delta * static_cast<float>(delta_sum));
  }
  return sum;
}

float DotIQ1_M(int64_t n, const void* w, const void* q8_k) {
  const auto& grid = Iq1sGrid();
  const auto* x = static_cast<const BlockIQ1_M*>(w);
  const auto* a = static_cast<const BlockQ8_K*>(q8_k);
  const __m256i one = _mm256_set1_epi8(1);
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint16_t sc[4];
    std::memcpy(sc, x[i].scales, sizeof(sc));
    const auto d_bits = static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) |
                                              ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000));
    __m256i acc = _mm256_setzero_si256();
    __m256i delta_acc = _mm256_setzero_si256();  // 4 int64 lanes, one per group of 8
    int32_t correction = 0;
    int32_t delta_offset = 0;
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      const uint8_t* qs = x[i].qs + ptrdiff_t{4} * ib;
      const uint8_t* qh = x[i].qh + ptrdiff_t{2} * ib;
      const auto index = [&](int l) {
        return qs[l] | ((static_cast<uint16_t>(qh[l / 2]) << (l % 2 == 0 ? 8 : 4)) & 0x700);
      };
      const auto sign = [&](int l) {
        return (qh[l / 2] & (l % 2 == 0 ? 0x08 : 0x80)) != 0 ? -1 : 1;
      };
      const int32_t ls1 = 2 * ((sc[ib / 2] >> (6 * (ib % 2))) & 7) + 1;
      const int32_t ls2 = 2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3)) & 7) + 1;
      const __m256i levels = Grid4(grid, index(0), index(1), index(2), index(3));
      const __m256i q8 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[i].qs + ptrdiff_t{kQK} * ib));
      const __m256i scales = _mm256_setr_m128i(_mm_set1_epi16(static_cast<int16_t>(ls1)),
                                               _mm_set1_epi16(static_cast<int16_t>(ls2)));
      acc = _mm256_add_epi32(acc, ScaledProducts(_mm256_add_epi8(levels, one), q8, scales));
      const int16_t* pair = a[i].bsums + ptrdiff_t{2} * ib;
      correction += ls1 * pair[0] + ls2 * pair[1];
      // Each group's activation sum plus 8 * 128 (vpsadbw of the biased bytes), times its
      // delta sign and scale; the 1024s are taken off below.
      const __m256i group_sums =
          _mm256_sad_epu8(_mm256_xor_si256(q8, bias), _mm256_setzero_si256());
      const int32_t f0 = sign(0) * ls1, f1 = sign(1) * ls1, f2 = sign(2) * ls2, f3 = sign(3) * ls2;
      delta_acc = _mm256_add_epi64(
          delta_acc, _mm256_mul_epi32(group_sums, _mm256_setr_epi64x(f0, f1, f2, f3)));
      delta_offset += 1024 * (f0 + f1 + f2 + f3);
    }
    const int32_t level_sum = HorizontalSum(acc) - correction;
    alignas(32) int64_t deltas[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(deltas), delta_acc);
    const auto delta_sum =
        static_cast<int32_t>(deltas[0] + deltas[1] + deltas[2] + deltas[3] - delta_offset);
    sum += Fp16ToFp32(d_bits) * a[i].d *
           (static_cast<float>(level_sum) + kIq1Delta * static_cast<float>(delta_sum));
  }
  return sum;
}

}  // namespace dsinfer::kernels::avx2
