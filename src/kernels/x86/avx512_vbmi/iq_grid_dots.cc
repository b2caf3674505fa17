// The IQ2_XXS dot (decode's matvec) with each block decoded by table lookups in registers: the
// 256 grid entries, as 2-bit level codes per element (16 bits an entry), fill 8 registers, so
// four vpermt2w look up a block's 32 entries at once; vpmultishiftqb spreads each entry's
// codes over its 8 bytes and vpermb turns them into the offset levels; vpshufbitqmb makes a
// 64-element sign mask from the sign bytes. The avx2 body (x86/iq_grid_decode_body.inc) loads
// each entry and each sign pattern with a scalar load instead: 64 loads and their inserts a
// block, which bound it. The integer products and float steps are the avx512 gemm's
// (iq_grid_wide_body.inc), so the result is the reference's bits.
//
// 7168 x 2048 rows, one thread, cache warm, best of 15 passes (a program outside the
// repository, 2026-11-30): 433 us against the avx2 dot's 775 us (ggml's avx2 vec_dot: 700-730).
//
// Thread safety: pure functions over caller-owned memory; the tables are built once.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/x86/avx512_vbmi/kernels.h"
#include "quant/blocks.h"
#include "quant/iq_grids.h"

namespace dsinfer::kernels::avx512_vbmi {
namespace {

#include "kernels/x86/iq_grid_decode_body.inc"
#include "kernels/x86/iq_grid_wide_body.inc"

// In this file a block's 32 groups of 8 are numbered g = 8 k + q: k is the 64-element step of
// the product (WideBlock::codes[k]) and q the group's place in it. The lookups work on a
// transposed order in which qword q holds what groups q, 8 + q, 16 + q and 24 + q need, so
// that each step k picks its part within every qword (vpmultishiftqb, vpshufbitqmb) and no
// step needs a cross-lane permute of its own.

template <typename T, size_t N, typename Fn>
constexpr std::array<T, N> Table(Fn value) {
  std::array<T, N> t{};
  for (size_t i = 0; i < N; ++i) t[i] = static_cast<T>(value(static_cast<int>(i)));
  return t;
}

// Word 4 q + k (its high byte zeroed): the grid index of group 8 k + q, byte l = q % 4 of
// sub-block 2 k + q / 4's first word.
alignas(64) constexpr auto kIndexPick = Table<uint8_t, 64>([](int i) {
  const int word = i / 2;
  const int q = word / 4;
  const int k = word % 4;
  return 8 * (2 * k + q / 4) + q % 4;
});
// Byte l of qword ib (and again in bytes 4..7): the 7 stored sign bits of sub-block ib's group
// l, which sit at bit 32 + 7 l of the sub-block's 8 bytes.
alignas(64) constexpr auto kSignFields = Table<uint8_t, 64>([](int i) { return 32 + 7 * (i % 4); });
// Byte 8 q + k: group 8 k + q's sign byte, from byte q % 4 of qword 2 k + q / 4 (bytes with
// k >= 4 are not read).
alignas(64) constexpr auto kSignTranspose = Table<uint8_t, 64>([](int i) {
  const int q = i / 8;
  const int k = i % 8 % 4;
  return 8 * (2 * k + q / 4) + q % 4;
});
// Step k: byte e of qword q takes the bits from 16 k + 2 e on (the low 2 are element e's code),
// and mask bit 8 q + e is bit 8 k + e of qword q (element e's sign).
alignas(64) constexpr std::array<std::array<uint8_t, 64>, kPairs> kLevelFields = [] {
  std::array<std::array<uint8_t, 64>, kPairs> f{};
  for (int k = 0; k < kPairs; ++k) {
    f[k] = Table<uint8_t, 64>([k](int i) { return 16 * k + 2 * (i % 8); });
  }
  return f;
}();
alignas(64) constexpr std::array<std::array<uint8_t, 64>, kPairs> kSignBits = [] {
  std::array<std::array<uint8_t, 64>, kPairs> f{};
  for (int k = 0; k < kPairs; ++k) f[k] = Table<uint8_t, 64>([k](int i) { return 8 * k + i % 8; });
  return f;
}();
// Step k's scales: words 0..15 sub-block 2 k's, 16..31 sub-block 2 k + 1's (the low word of
// its qword). kPerSixteenPick: word h sub-block h / 2's (BlockScales::per_sixteen).
alignas(64) constexpr std::array<std::array<uint16_t, 32>, kPairs> kScalePicks = [] {
  std::array<std::array<uint16_t, 32>, kPairs> f{};
  for (int k = 0; k < kPairs; ++k) {
    f[k] = Table<uint16_t, 32>([k](int w) { return 4 * (2 * k + w / 16); });
  }
  return f;
}();
alignas(64) constexpr auto kPerSixteenPick = Table<uint16_t, 32>([](int w) {
  return 4 * (w % 16 / 2);
});

// The offset level of a 2-bit code (0, 1, 2: magnitudes 8, 25, 43), by the low 2 bits of
// vpermb's 6-bit index.
constexpr int kMagnitudes[4] = {8, 25, 43, 0};
alignas(64) constexpr auto kOffsetLevels = Table<uint8_t, 64>([](int i) {
  return Iq2xxs::kOffset + kMagnitudes[i % 4];
});

// IQ2_XXS's grid as 2-bit codes, and Iq2Signs of every 7-bit pattern.
struct Iq2xxsTables {
  alignas(64) std::array<uint16_t, 256> codes;
  alignas(64) std::array<uint8_t, 128> signs;
};

const Iq2xxsTables& Iq2xxsLookups() {
  static const Iq2xxsTables kTables = [] {
    Iq2xxsTables t{};
    const std::array<uint64_t, 256>& grid = Iq2xxsGrid();
    for (size_t e = 0; e < grid.size(); ++e) {
      for (int j = 0; j < 8; ++j) {
        const int magnitude = static_cast<uint8_t>(grid[e] >> (8 * j));
        const int code =
            static_cast<int>(std::find(kMagnitudes, kMagnitudes + 3, magnitude) - kMagnitudes);
        t.codes[e] = static_cast<uint16_t>(t.codes[e] | code << (2 * j));
      }
    }
    for (uint32_t s = 0; s < t.signs.size(); ++s) t.signs[s] = Iq2Signs(s);
    return t;
  }();
  return kTables;
}

__m512i Load(const void* p) { return _mm512_load_si512(p); }

// The tables in registers, loaded once per dot: the decode's loop keeps them there.
class Iq2xxsDecoder {
 public:
  Iq2xxsDecoder() {
    const Iq2xxsTables& t = Iq2xxsLookups();
    for (int i = 0; i < 8; ++i) codes_[i] = Load(t.codes.data() + ptrdiff_t{32} * i);
    signs_[0] = Load(t.signs.data());
    signs_[1] = Load(t.signs.data() + 64);
  }

  void Decode(const BlockIQ2_XXS& b, WideBlock& out) const {
    const __m512i qs = _mm512_loadu_si512(b.qs);
    // Word 4 q + k: group 8 k + q's entry, 64 entries per vpermt2w (bits 0..5), the right one
    // of four picked by bits 6 and 7.
    const __m512i index =
        _mm512_maskz_permutexvar_epi8(0x5555555555555555ULL, Load(kIndexPick.data()), qs);
    const __mmask32 bit6 = _mm512_test_epi16_mask(index, _mm512_set1_epi16(64));
    const __mmask32 bit7 = _mm512_test_epi16_mask(index, _mm512_set1_epi16(128));
    const __m512i low =
        _mm512_mask_mov_epi16(_mm512_permutex2var_epi16(codes_[0], index, codes_[1]), bit6,
                              _mm512_permutex2var_epi16(codes_[2], index, codes_[3]));
    const __m512i high =
        _mm512_mask_mov_epi16(_mm512_permutex2var_epi16(codes_[4], index, codes_[5]), bit6,
                              _mm512_permutex2var_epi16(codes_[6], index, codes_[7]));
    const __m512i entries = _mm512_mask_mov_epi16(low, bit7, high);
    // Byte 8 q + k: group 8 k + q's 8 signs (vpermt2b reads 7 bits of each field).
    const __m512i sign_bytes = _mm512_permutexvar_epi8(
        Load(kSignTranspose.data()),
        _mm512_permutex2var_epi8(
            signs_[0], _mm512_multishift_epi64_epi8(Load(kSignFields.data()), qs), signs_[1]));
    // 2 s + 1 per sub-block (qword ib): s is its top 4 bits, and bit 0 is made 1.
    const __m512i ls = _mm512_or_si512(_mm512_srli_epi64(qs, 59), _mm512_set1_epi64(1));
#pragma GCC unroll 4
    for (int k = 0; k < kPairs; ++k) {
      const __m512i codes = _mm512_multishift_epi64_epi8(Load(kLevelFields[k].data()), entries);
      const __mmask64 negative =
          _mm512_bitshuffle_epi64_mask(sign_bytes, Load(kSignBits[k].data()));
      const __m512i positive = _mm512_permutexvar_epi8(codes, Load(kOffsetLevels.data()));
      // A negated element's offset level is 2 kOffset minus its positive one.
      out.codes[k] =
          _mm512_mask_sub_epi8(positive, negative, _mm512_set1_epi8(2 * Iq2xxs::kOffset), positive);
      out.scales[k] = _mm512_permutexvar_epi16(Load(kScalePicks[k].data()), ls);
    }
    const __m256i per_sixteen =
        _mm512_castsi512_si256(_mm512_permutexvar_epi16(Load(kPerSixteenPick.data()), ls));
    out.block.per_sixteen = per_sixteen;
    out.block.correction = _mm256_mullo_epi16(per_sixteen, _mm256_set1_epi16(Iq2xxs::kOffset));
    out.block.d = HalfToFloat(b.d);
  }

 private:
  __m512i codes_[8];
  __m512i signs_[2];
};

// Blocks reduced together: one per lane of SumPerToken.
constexpr int kBlocks = 16;

}  // namespace

float DotIQ2_XXS(int64_t n, const void* w, const void* q8_k) {
  const Iq2xxsDecoder decoder;
  const auto* x = static_cast<const BlockIQ2_XXS*>(w);
  const auto* a = static_cast<const BlockQ8_K*>(q8_k);
  const int64_t n_blocks = n / kQK_K;
  float sum = 0;
  for (int64_t i0 = 0; i0 < n_blocks; i0 += kBlocks) {
    const int count = static_cast<int>(std::min<int64_t>(kBlocks, n_blocks - i0));
    __m512i partials[kBlocks];
    alignas(64) float d[kBlocks] = {};  // lanes past the row's end stay 0: terms of 0
    for (int l = 0; l < kBlocks; ++l) {
      if (l >= count) {
        partials[l] = _mm512_setzero_si512();
        continue;
      }
      WideBlock block;
      decoder.Decode(x[i0 + l], block);
      const BlockQ8_K& act = a[i0 + l];
      __m512i q8[kPairs];
      for (int k = 0; k < kPairs; ++k) q8[k] = _mm512_loadu_si512(act.qs + ptrdiff_t{kQK} * 2 * k);
      partials[l] = Partials<Iq2xxs::kAccScale>(block, act, q8);
      d[l] = block.block.d * act.d;
    }
    alignas(64) float terms[kBlocks];
    _mm512_store_ps(terms, Terms<Iq2xxs>(_mm512_load_ps(d), SumPerToken<kBlocks>(partials)));
    for (int l = 0; l < count; ++l) sum += terms[l];
  }
  return Iq2xxs::Finish(sum);
}

}  // namespace dsinfer::kernels::avx512_vbmi
