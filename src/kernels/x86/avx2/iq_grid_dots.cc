// AVX2 dots and gemms of the lattice types (IQ2_XXS, IQ1_S, IQ1_M) with Q8_K activations,
// bit-identical to quant_ref's dots: each 256-element block's integer sums are exact here too,
// and the float steps per block are the reference's, in its order. So the gemm (prefill, expert
// batches) gives every token exactly what the dot gives it alone.
//
// Both decode a weight block once into a DecodedBlock: per 32-element sub-block its codes as
// unsigned bytes, per 16 elements an integer scale, and per 16 the multiplier of the
// activations' sum (bsums) to take off. A token's block product is then
//   kAccScale * sum_sb maddwd(maddubsw(codes_sb, q8_sb), scales_sb) - sum_h corr_h * bsums_h,
// the reference's integer sum for that block. The gemm decodes each block once per tile of
// tokens instead of once per token, which is what costs here.
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

#include <algorithm>
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

// Eight int32 values (one per sub-block), each as the int16 of both its 16-element halves.
__m256i PerSixteen(__m256i per_sub_block) {
  return _mm256_or_si256(per_sub_block, _mm256_slli_epi32(per_sub_block, 16));
}

// Sub-block ib's scales vector from the block's 16 per-16 scales (int16 lanes): dword ib (its
// two scales) everywhere, then the first scale in the low 128 bits and the second in the high.
__m256i SubBlockScales(__m256i per_sixteen, int ib) {
  const __m256i pair = _mm256_permutevar8x32_epi32(per_sixteen, _mm256_set1_epi32(ib));
  return _mm256_shuffle_epi8(
      pair, _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3,
                             2, 3, 2, 3, 2, 3, 2, 3));
}

// The same where both halves of every sub-block share one scale: the dword alone.
__m256i SharedSubBlockScales(__m256i per_sixteen, int ib) {
  return _mm256_permutevar8x32_epi32(per_sixteen, _mm256_set1_epi32(ib));
}

// A sub-block's 32 codes (unsigned bytes) and its scales (int16 lanes, per 16 elements).
struct SubBlockCodes {
  __m256i codes;
  __m256i scales;
};

// What a block needs beyond its sub-blocks' codes: its scales per 16 elements, the multiplier
// of each 16's activation sum (bsums) to take off, and its float scale.
struct BlockScales {
  __m256i per_sixteen;
  __m256i correction;
  float d;
};

// A block's integer product with one token's Q8_K block; code(ib) gives sub-block ib.
template <int kAccScale, typename CodeFn>
int32_t BlockProduct(CodeFn code, const BlockScales& scales, const BlockQ8_K& a) {
  __m256i acc = _mm256_setzero_si256();
  for (int ib = 0; ib < kSubBlocks; ++ib) {
    const SubBlockCodes sub = code(ib);
    const __m256i q8 =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs + ptrdiff_t{kQK} * ib));
    // vpmaddubsw pairs stay below saturation: codes <= 86, |q8| <= 128.
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(sub.codes, q8), sub.scales));
  }
  const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums));
  return kAccScale * HorizontalSum(acc) -
         HorizontalSum(_mm256_madd_epi16(bsums, scales.correction));
}

// Each type: Prepare(block) -> State (a BlockScales and whatever its sub-blocks need), then
// SubBlock(block, state, ib); Term and Finish are the reference's float steps.

// IQ2_XXS: codes are the signed levels (-43..43) plus 43; y = d (0.5 + s) / 4 g, and the dot
// sums d_w d_a (sum_sb (2 s + 1) sum g q8) per block, times 1/8 at the end.
struct Iq2xxs {
  using Block = BlockIQ2_XXS;
  static constexpr int kOffset = 43;  // the largest grid magnitude
  static constexpr int kAccScale = 1;
  struct State : BlockScales {
    const std::array<uint64_t, 256>* grid;  // fetched once per block: the table lives elsewhere
  };

  static State Prepare(const Block& b) {
    // The sub-blocks' second words (odd dwords of qs) hold their scales in bits 28..31.
    const __m256 lo = _mm256_loadu_ps(reinterpret_cast<const float*>(b.qs));
    const __m256 hi = _mm256_loadu_ps(reinterpret_cast<const float*>(b.qs + 16));
    const __m256i second = _mm256_permute4x64_epi64(
        _mm256_castps_si256(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1))),
        _MM_SHUFFLE(3, 1, 2, 0));
    const __m256i ls =
        _mm256_add_epi32(_mm256_slli_epi32(_mm256_srli_epi32(second, 28), 1), _mm256_set1_epi32(1));
    State state;
    state.per_sixteen = PerSixteen(ls);
    state.correction = _mm256_mullo_epi16(state.per_sixteen, _mm256_set1_epi16(kOffset));
    state.d = Fp16ToFp32(b.d);
    state.grid = &Iq2xxsGrid();
    return state;
  }
  static SubBlockCodes SubBlock(const Block& b, const State& state, int ib) {
    uint32_t words[2];
    std::memcpy(words, b.qs + ptrdiff_t{4} * ib, sizeof(words));
    const __m256i levels = _mm256_sign_epi8(Grid4(*state.grid, words[0]), SignBytes(words[1]));
    return {_mm256_add_epi8(levels, _mm256_set1_epi8(kOffset)),
            SharedSubBlockScales(state.per_sixteen, ib)};
  }
  static float Term(float d, int32_t product) { return d * static_cast<float>(product); }
  static float Finish(float sum) { return 0.125F * sum; }
};

// IQ1: a weight is scale * (g + delta / 8), g in {-1, 0, 1}, delta = +-1. The reference sums
// level_sum = sum scale g q8 and delta_sum = sum scale delta q8 apart; the block product here
// is 8 level_sum + delta_sum, and level_sum + delta_sum / 8 is exact in float either way
// (|8 level_sum + delta_sum| < 2^23, and the reference's sum needs 22 bits), so the bits agree.
float Iq1Term(float d, int32_t product) { return d * (0.125F * static_cast<float>(product)); }

// IQ1_S: codes are g + 1 (one delta per sub-block rides on the bsums); product =
// 8 sum s (g + 1) q8 - sum s (8 - delta) bsum.
struct Iq1s {
  using Block = BlockIQ1_S;
  static constexpr int kAccScale = 8;
  struct State : BlockScales {
    const std::array<uint64_t, 2048>* grid;
    alignas(32) uint32_t index[kQK_K / 8];
  };

  static State Prepare(const Block& b) {
    State state;
    state.grid = &Iq1sGrid();
    Iq1sIndices(b, state.index);
    const __m256i qh =
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qh)));
    const __m256i ls = _mm256_add_epi32(
        _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(qh, 12), _mm256_set1_epi32(7)), 1),
        _mm256_set1_epi32(1));
    // 8 - delta is 9 where bit 15 (delta = -1) is set, 7 where not: ls (8 - delta) = 7 ls, plus
    // 2 ls where the bit is set.
    const __m256i negative = _mm256_srai_epi32(_mm256_slli_epi32(qh, 16), 31);
    const __m256i ls_times_eight_less_delta =
        _mm256_add_epi32(_mm256_sub_epi32(_mm256_slli_epi32(ls, 3), ls),
                         _mm256_slli_epi32(_mm256_and_si256(ls, negative), 1));
    state.per_sixteen = PerSixteen(ls);
    state.correction = PerSixteen(ls_times_eight_less_delta);
    state.d = Fp16ToFp32(b.d);
    return state;
  }
  static SubBlockCodes SubBlock(const Block& /*b*/, const State& state, int ib) {
    const uint32_t* g = state.index + ptrdiff_t{4} * ib;
    return {_mm256_add_epi8(Grid4(*state.grid, g[0], g[1], g[2], g[3]), _mm256_set1_epi8(1)),
            SharedSubBlockScales(state.per_sixteen, ib)};
  }
  static float Term(float d, int32_t product) { return Iq1Term(d, product); }
  static float Finish(float sum) { return sum; }
};

// IQ1_M: delta varies per group of 8, so it goes into the codes: 8 g + delta + 9 (0..18);
// product = sum s (8 g + delta + 9) q8 - 9 sum s bsum.
struct Iq1m {
  using Block = BlockIQ1_M;
  static constexpr int kOffset = 9;
  static constexpr int kAccScale = 1;
  struct State : BlockScales {
    const std::array<uint64_t, 2048>* grid;
    alignas(32) uint16_t index[kQK_K / 8];
  };

  static State Prepare(const Block& b) {
    State state;
    state.grid = &Iq1sGrid();
    Iq1mIndices(b, state.index);
    uint16_t sc[4];
    std::memcpy(sc, b.scales, sizeof(sc));
    state.per_sixteen = Iq1mScales(sc);
    state.correction = _mm256_mullo_epi16(state.per_sixteen, _mm256_set1_epi16(kOffset));
    state.d = Fp16ToFp32(static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) |
                                               ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000)));
    return state;
  }
  static SubBlockCodes SubBlock(const Block& b, const State& state, int ib) {
    // Group l's delta sign is bit 4 l + 3 of the sub-block's two qh bytes: one bit per 64-bit
    // lane, tested in every 16-bit element of it.
    const __m256i delta_bits =
        _mm256_setr_epi64x(0x0008000800080008, 0x0080008000800080, 0x0800080008000800,
                           static_cast<int64_t>(0x8000800080008000ULL));
    const uint16_t* g = state.index + ptrdiff_t{4} * ib;
    const __m256i levels = Grid4(*state.grid, g[0], g[1], g[2], g[3]);
    uint16_t qh_pair = 0;
    std::memcpy(&qh_pair, b.qh + ptrdiff_t{2} * ib, sizeof(qh_pair));
    const __m256i negative = _mm256_cmpeq_epi16(
        _mm256_and_si256(_mm256_set1_epi16(static_cast<int16_t>(qh_pair)), delta_bits),
        delta_bits);  // all ones in the groups whose delta is -1
    const __m256i delta_plus_offset =
        _mm256_add_epi8(_mm256_set1_epi8(kOffset + 1), _mm256_add_epi8(negative, negative));
    return {_mm256_add_epi8(_mm256_sign_epi8(_mm256_set1_epi8(8), levels), delta_plus_offset),
            SubBlockScales(state.per_sixteen, ib)};
  }
  static float Term(float d, int32_t product) { return Iq1Term(d, product); }
  static float Finish(float sum) { return sum; }
};

// One token: each sub-block's codes go straight into the product.
template <typename Type>
float Dot(int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const typename Type::Block*>(w);
  const auto* a = static_cast<const BlockQ8_K*>(q8_k);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const typename Type::State state = Type::Prepare(x[i]);
    const auto code = [&](int ib) { return Type::SubBlock(x[i], state, ib); };
    sum += Type::Term(state.d * a[i].d, BlockProduct<Type::kAccScale>(code, state, a[i]));
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
          sums[t] += Type::Term(state.d * a->d, BlockProduct<Type::kAccScale>(code, state, *a));
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

void GemmIQ2_XXS(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
                 const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
                 int64_t ldy) {
  Gemm<Iq2xxs>(n_in, w, w_row_bytes, n_rows, act, act_row_bytes, n_tokens, y, ldy);
}
void GemmIQ1_S(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
               const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
               int64_t ldy) {
  Gemm<Iq1s>(n_in, w, w_row_bytes, n_rows, act, act_row_bytes, n_tokens, y, ldy);
}
void GemmIQ1_M(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
               const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
               int64_t ldy) {
  Gemm<Iq1m>(n_in, w, w_row_bytes, n_rows, act, act_row_bytes, n_tokens, y, ldy);
}

}  // namespace dsinfer::kernels::avx2
