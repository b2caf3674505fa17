// AVX2 dots of the lattice types (IQ2_XXS, IQ1_S, IQ1_M) with Q8_K activations, bit-identical
// to quant_ref's: each 256-element block's integer sums are exact here too, and the float steps
// per block are the reference's, in its order.
//
// A group of 8 weights is one grid entry (iq_grids.h), loaded as a u64; four make a 32-byte
// vector per sub-block. vpmaddubsw needs one unsigned operand, so the weight levels are made
// non-negative by an offset c (IQ2_XXS: signed levels -43..43 plus 43; IQ1_S: -1..1 plus 1;
// IQ1_M: 8 level + delta, -9..9, plus 9) and c times the activations' sum (Q8_K's bsums) is
// taken off again as an integer. That keeps activations of -128 exact, which negating them
// (vpsignb) would not.
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

__m256i Grid4(const std::array<uint64_t, 2048>& grid, uint32_t i0, uint32_t i1, uint32_t i2,
              uint32_t i3) {
  return _mm256_set_epi64x(static_cast<int64_t>(grid[i3]), static_cast<int64_t>(grid[i2]),
                           static_cast<int64_t>(grid[i1]), static_cast<int64_t>(grid[i0]));
}

// The signs of a sub-block's four groups (7 bits each in `bits`) as 32 bytes of -1 or +1.
__m256i SignBytes(uint32_t bits) {
  const __m256i negated = _mm256_set_epi64x(static_cast<int64_t>(kIq2SignMasks[(bits >> 21) & 127]),
                                            static_cast<int64_t>(kIq2SignMasks[(bits >> 14) & 127]),
                                            static_cast<int64_t>(kIq2SignMasks[(bits >> 7) & 127]),
                                            static_cast<int64_t>(kIq2SignMasks[bits & 127]));
  return _mm256_or_si256(negated, _mm256_set1_epi8(1));
}

// IQ1_S: the 11-bit grid index of each of a block's 32 groups (group 4 ib + l: qs[4 ib + l] and
// bits 3 l .. 3 l + 2 of qh[ib]), made 8 at a time instead of by scalar shifts per group.
void Iq1sIndices(const BlockIQ1_S& b, uint32_t* index) {
  const __m256i qh = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qh)));
  const __m256i shifts = _mm256_setr_epi32(0, 3, 6, 9, 0, 3, 6, 9);
  for (int pair = 0; pair < kSubBlocks / 2; ++pair) {  // sub-blocks 2 pair and 2 pair + 1
    const __m256i spread = _mm256_permutevar8x32_epi32(
        qh, _mm256_setr_epi32(2 * pair, 2 * pair, 2 * pair, 2 * pair, 2 * pair + 1, 2 * pair + 1,
                              2 * pair + 1, 2 * pair + 1));
    const __m256i high = _mm256_slli_epi32(
        _mm256_and_si256(_mm256_srlv_epi32(spread, shifts), _mm256_set1_epi32(7)), 8);
    const __m256i low = _mm256_cvtepu8_epi32(
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.qs + ptrdiff_t{8} * pair)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(index + ptrdiff_t{8} * pair),
                       _mm256_or_si256(low, high));
  }
}

// IQ1_M: group g's index is qs[g] and the low 3 bits of nibble g % 2 of qh[g / 2]; interleaving
// the qs bytes with those bits gives the 32 indices as u16 directly.
void Iq1mIndices(const BlockIQ1_M& b, uint16_t* index) {
  const __m128i qh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qh));
  const __m128i seven = _mm_set1_epi8(7);
  const __m128i even = _mm_and_si128(qh, seven);
  const __m128i odd = _mm_and_si128(_mm_srli_epi16(qh, 4), seven);
  const __m128i high[2] = {_mm_unpacklo_epi8(even, odd), _mm_unpackhi_epi8(even, odd)};
  for (int half = 0; half < 2; ++half) {  // groups 16 half .. 16 half + 15
    const __m128i qs =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + ptrdiff_t{16} * half));
    _mm_store_si128(reinterpret_cast<__m128i*>(index + ptrdiff_t{16} * half),
                    _mm_unpacklo_epi8(qs, high[half]));
    _mm_store_si128(reinterpret_cast<__m128i*>(index + ptrdiff_t{16} * half + 8),
                    _mm_unpackhi_epi8(qs, high[half]));
  }
}

// IQ1_M's 16 scales 2 s + 1, s = bits 3 (h % 4) .. + 2 of sc[h / 4], as int16 lanes. AVX2 has no
// variable 16-bit shift: each lane is multiplied up so that its field lands on bits 9..11.
__m256i Iq1mScales(const uint16_t* sc) {
  uint64_t words = 0;
  std::memcpy(&words, sc, sizeof(words));
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi64x(static_cast<int64_t>(words)),
                          _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 4, 5, 4,
                                           5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7));
  const __m256i aligned = _mm256_mullo_epi16(
      spread, _mm256_setr_epi16(512, 64, 8, 1, 512, 64, 8, 1, 512, 64, 8, 1, 512, 64, 8, 1));
  const __m256i field = _mm256_and_si256(_mm256_srli_epi16(aligned, 9), _mm256_set1_epi16(7));
  return _mm256_add_epi16(_mm256_add_epi16(field, field), _mm256_set1_epi16(1));
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
// IQ1: a weight is scale * (g + delta / 8) with g in {-1, 0, 1} and delta = +-1, so 8 g + delta
// (-9..9) plus kCodeOffset is a non-negative byte code whose dot with the activations, less
// kCodeOffset times their sum, is 8 level_sum + delta_sum: one vpmaddubsw for both terms.
constexpr int kCodeOffset = 9;

// 8 g + delta + kCodeOffset from the grid levels and a vector of delta + kCodeOffset bytes.
__m256i Iq1Codes(__m256i levels, __m256i delta_plus_offset) {
  return _mm256_add_epi8(_mm256_sign_epi8(_mm256_set1_epi8(8), levels), delta_plus_offset);
}

// The reference's level_sum + delta_sum / 8 from total = 8 level_sum + delta_sum. Both are
// exact in float (|total| < 2^23 and the reference's sum needs 22 bits), so the bits agree.
float Iq1Total(int32_t total) { return 0.125F * static_cast<float>(total); }

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
      const int32_t ls = static_cast<int32_t>(2 * (words[1] >> 28) + 1);
      const __m256i levels = _mm256_sign_epi8(Grid4(grid, words[0]), SignBytes(words[1]));
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
    alignas(32) uint32_t index[kQK_K / 8];
    Iq1sIndices(x[i], index);
    __m256i acc = _mm256_setzero_si256();
    int32_t correction = 0;
    int32_t delta_sum = 0;
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      const uint32_t qh = x[i].qh[ib];
      const int32_t ls = static_cast<int32_t>(2 * ((qh >> 12) & 7) + 1);
      const uint32_t* g = index + ptrdiff_t{4} * ib;
      const __m256i levels = Grid4(grid, g[0], g[1], g[2], g[3]);
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
  // Group l's delta sign is bit 4 l + 3 of the sub-block's two qh bytes: one bit per 64-bit
  // lane, tested in every 16-bit element of it.
  const __m256i delta_bits =
      _mm256_setr_epi64x(0x0008000800080008, 0x0080008000800080, 0x0800080008000800,
                         static_cast<int64_t>(0x8000800080008000ULL));
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint16_t sc[4];
    std::memcpy(sc, x[i].scales, sizeof(sc));
    const auto d_bits = static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) |
                                              ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000));
    alignas(32) uint16_t index[kQK_K / 8];
    Iq1mIndices(x[i], index);
    alignas(32) int16_t ls[kQK_K / 16];  // the scale of each 16 elements
    const __m256i scale_vector = Iq1mScales(sc);
    _mm256_store_si256(reinterpret_cast<__m256i*>(ls), scale_vector);
    // kCodeOffset times the activations' sum, each 16 scaled as its weights.
    const int32_t correction =
        kCodeOffset *
        HorizontalSum(_mm256_madd_epi16(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[i].bsums)), scale_vector));
    __m256i acc = _mm256_setzero_si256();
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      const uint8_t* qh = x[i].qh + ptrdiff_t{2} * ib;
      const uint16_t* g = index + ptrdiff_t{4} * ib;
      const __m256i levels = Grid4(grid, g[0], g[1], g[2], g[3]);
      uint16_t qh_pair = 0;
      std::memcpy(&qh_pair, qh, sizeof(qh_pair));
      const __m256i negative = _mm256_cmpeq_epi16(
          _mm256_and_si256(_mm256_set1_epi16(static_cast<int16_t>(qh_pair)), delta_bits),
          delta_bits);  // all ones in the groups whose delta is -1/8
      const __m256i delta =
          _mm256_add_epi8(_mm256_set1_epi8(kCodeOffset + 1), _mm256_add_epi8(negative, negative));
      const __m256i q8 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[i].qs + ptrdiff_t{kQK} * ib));
      const int16_t* pair = ls + ptrdiff_t{2} * ib;
      const __m256i scales = _mm256_setr_m128i(_mm_set1_epi16(pair[0]), _mm_set1_epi16(pair[1]));
      acc = _mm256_add_epi32(acc, ScaledProducts(Iq1Codes(levels, delta), q8, scales));
    }
    sum += Fp16ToFp32(d_bits) * a[i].d * Iq1Total(HorizontalSum(acc) - correction);
  }
  return sum;
}

}  // namespace dsinfer::kernels::avx2
