// IQ2_XXS, IQ2_XS, IQ3_XXS and IQ3_S blocks decoded by table lookups in registers, for their dots
// (decode's matvec) and for the gemm's few-token body (MoE experts in decode-sized batches).
// Their grids have 256 or 512 entries of 3 or 8 magnitudes, so as level codes (2 or 3 bits an
// element, 16 bits an entry) they fill 8 or 16 registers: four or eight vpermt2w look up 32
// entries at once, vpmultishiftqb spreads each entry's codes over its bytes, vpermb turns them
// into offset levels, and vpshufbitqmb makes each 64-element sign mask from the sign bytes.
// The avx2 decode (x86/iq_grid_decode_body.inc) loads each entry and each sign pattern with a
// scalar load and inserts it instead (IQ2_XXS: 64 loads a block, the IQ3 types: 96), which bound
// decode on these files. The integer products and float steps are the avx512 gemm's
// (iq_grid_wide_body.inc), so every result is the reference's bits.
//
// kernels_bench MatVec 7168x2048, 1 thread, against the avx2 dot (2026-11-30): IQ2_XXS 785-796
// -> 443-448 us, IQ2_XS 814-856 -> 546-553, IQ3_XXS 1084 -> 492-498, IQ3_S 1280 -> 671-682;
// 3 tokens (the gemm) 1363 -> 1158-1179, 1836-1846 -> 1239-1267, 2092 -> 1328-1405 and
// 2868-2887 -> 1546-1679 us. IQ2_S's 1024 entries and IQ1_S / IQ1_M's 2048 would not fit the
// 32 registers; vpgatherdd, tried for IQ1_S's entries, takes longer per entry on this host (an
// AMD EPYC) than the scalar loads it would replace: 5.1 ns per 16-lane gather against 3.8 ns
// for 16 loads.
//
// Thread safety: pure functions over caller-owned memory; the tables are built once.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/kernel_table.h"
#include "kernels/x86/avx512/gemm.h"
#include "kernels/x86/avx512_vbmi/kernels.h"
#include "quant/blocks.h"
#include "quant/iq_grids.h"

namespace dsinfer::kernels::avx512_vbmi {
namespace {

#include "kernels/x86/iq_grid_decode_body.inc"
#include "kernels/x86/iq_grid_wide_body.inc"
#include "kernels/x86/iq_signed_grid_decode_body.inc"

// These types' blocks are 32 groups of 8 elements, numbered here g = 8 k + q: k is the
// 64-element step of the product (WideBlock::codes[k]) and q the group's place in it. The
// lookups work in a transposed order in which qword q holds what groups q, 8 + q, 16 + q and
// 24 + q need, so that each step picks its part within every qword (vpmultishiftqb,
// vpshufbitqmb) and no step needs a cross-lane permute of its own.

template <typename T, size_t N, typename Fn>
constexpr std::array<T, N> Table(Fn value) {
  std::array<T, N> t{};
  for (size_t i = 0; i < N; ++i) t[i] = static_cast<T>(value(static_cast<int>(i)));
  return t;
}

template <typename T, size_t N, typename Fn>
constexpr std::array<std::array<T, N>, kPairs> StepTables(Fn value) {
  std::array<std::array<T, N>, kPairs> t{};
  for (int k = 0; k < kPairs; ++k) {
    t[k] = Table<T, N>([&](int i) { return value(k, i); });
  }
  return t;
}

// The tables below are 64-byte aligned; an unaligned load costs the same on aligned data and
// cannot fault if one is not.
__m512i Load(const void* p) { return _mm512_loadu_si512(p); }

// ---- Steps shared by the types ----

// Step k's sign mask: bit 8 q + e is bit e of byte kStride q + k (group 8 k + q's sign
// byte) of qword q.
template <int kStride>
alignas(64) constexpr auto kSignBits = StepTables<uint8_t, 64>([](int k, int i) {
  return 8 * kStride * k + i % 8;
});

// Step k's scales from 2 s + 1 per sub-block (int32 lanes): words 0..15 sub-block 2 k's, 16..31
// sub-block 2 k + 1's.
alignas(64) constexpr auto kScalePicks = StepTables<uint16_t, 32>([](int k, int w) {
  return 2 * (2 * k + w / 16);
});

// A grid of kEntries entries as level codes of kBits per element (element j at bit kBits j):
// the index of its magnitude in `magnitudes`. Made once per type.
template <size_t kEntries>
struct GridCodes {
  alignas(64) std::array<uint16_t, kEntries> codes{};
};

template <int kBits, typename Entry, size_t kEntries, size_t kLevels>
GridCodes<kEntries> MakeGridCodes(const std::array<Entry, kEntries>& grid,
                                  const int (&magnitudes)[kLevels]) {
  GridCodes<kEntries> t;
  for (size_t e = 0; e < grid.size(); ++e) {
    for (size_t j = 0; j < sizeof(Entry); ++j) {
      const int magnitude = static_cast<uint8_t>(grid[e] >> (8 * j));
      const auto code = std::find(magnitudes, magnitudes + kLevels, magnitude) - magnitudes;
      t.codes[e] = static_cast<uint16_t>(t.codes[e] | code << (kBits * j));
    }
  }
  return t;
}

alignas(64) constexpr auto kSignPatterns = Table<uint8_t, 128>([](int s) {
  return Iq2Signs(static_cast<uint32_t>(s));
});

// A grid's codes in registers (entries 32 i .. 32 i + 31 in codes_[i]: 8 for 256 entries, 16
// for 512) and kSignPatterns in 2, loaded once per dot or gemm call.
template <size_t kEntries>
class GridLookups {
 public:
  explicit GridLookups(const GridCodes<kEntries>& grid) {
    for (size_t i = 0; i < kRegisters; ++i) {
      codes_[i] = Load(grid.codes.data() + ptrdiff_t{32} * static_cast<ptrdiff_t>(i));
    }
    signs_[0] = Load(kSignPatterns.data());
    signs_[1] = Load(kSignPatterns.data() + 64);
  }

  // The entries of 32 indices (one per word, below kEntries): each vpermt2w reads 64 entries
  // (index bits 0..5) from a register pair, and bits 6 and up pick the pair.
  __m512i Entries(__m512i index) const {
    const __mmask32 bit6 = _mm512_test_epi16_mask(index, _mm512_set1_epi16(64));
    const __mmask32 bit7 = _mm512_test_epi16_mask(index, _mm512_set1_epi16(128));
    const __m512i low = Entries256(0, index, bit6, bit7);
    if constexpr (kEntries == 256) {
      return low;
    } else {
      static_assert(kEntries == 512);
      return _mm512_mask_mov_epi16(low, _mm512_test_epi16_mask(index, _mm512_set1_epi16(256)),
                                   Entries256(8, index, bit6, bit7));
    }
  }

  // Bytes of 7-bit sign fields (bit 7 is not read) -> their sign bytes.
  __m512i SignBytes(__m512i fields) const {
    return _mm512_permutex2var_epi8(signs_[0], fields, signs_[1]);
  }
  // The same, then moved by `pick`.
  __m512i SignBytes(__m512i fields, __m512i pick) const {
    return _mm512_permutexvar_epi8(pick, SignBytes(fields));
  }

 private:
  static constexpr size_t kRegisters = kEntries / 32;

  // The 256 entries in codes_[first] .. codes_[first + 7]: four register pairs, picked by
  // index bits 6 and 7.
  __m512i Entries256(int first, __m512i index, __mmask32 bit6, __mmask32 bit7) const {
    const __m512i* t = codes_ + first;
    const __m512i low = _mm512_mask_mov_epi16(_mm512_permutex2var_epi16(t[0], index, t[1]), bit6,
                                              _mm512_permutex2var_epi16(t[2], index, t[3]));
    const __m512i high = _mm512_mask_mov_epi16(_mm512_permutex2var_epi16(t[4], index, t[5]), bit6,
                                               _mm512_permutex2var_epi16(t[6], index, t[7]));
    return _mm512_mask_mov_epi16(low, bit7, high);
  }

  __m512i codes_[kRegisters];
  __m512i signs_[2];
};

// One step's codes: `fields` (vpmultishiftqb) puts element e's level code in the low bits of
// byte e of every qword, `offset_levels` (vpermb, 6 index bits) maps it to kOffset plus its
// magnitude, and a negated element's offset level is 2 kOffset minus that.
template <int kOffset>
__m512i StepCodes(__m512i entries, const void* fields, const void* offset_levels,
                  __mmask64 negative) {
  const __m512i codes = _mm512_multishift_epi64_epi8(Load(fields), entries);
  const __m512i positive = _mm512_permutexvar_epi8(codes, Load(offset_levels));
  return _mm512_mask_sub_epi8(positive, negative, _mm512_set1_epi8(2 * kOffset), positive);
}

// The steps' scales and the block's BlockScales of a type whose scales are one per sub-block:
// `ls` holds 2 s + 1 per sub-block (int32 lanes).
template <int kOffset>
void SetSubBlockScales(__m256i ls, uint16_t d, WideBlock& out) {
  const __m512i wide = _mm512_zextsi256_si512(ls);
  for (int k = 0; k < kPairs; ++k) {
    out.scales[k] = _mm512_permutexvar_epi16(Load(kScalePicks[k].data()), wide);
  }
  out.block = OffsetScales<kOffset>(PerSixteen(ls), d);
}

// ---- IQ2_XXS ----
//
// Sub-block ib is qword ib of qs: four index bytes, then 4 x 7 sign bits and the scale.

constexpr int kIq2Magnitudes[] = {8, 25, 43};  // IQ2_XXS and IQ2_XS

// Word 4 q + k (its high byte zeroed): group 8 k + q's index, byte q % 4 of qword 2 k + q / 4.
alignas(64) constexpr auto kIq2xxsIndexPick = Table<uint8_t, 64>([](int i) {
  const int q = i / 8;
  const int k = i / 2 % 4;
  return 8 * (2 * k + q / 4) + q % 4;
});
// Byte l of qword ib (and again in bytes 4..7): group l of sub-block ib's 7 sign bits.
alignas(64) constexpr auto kIq2xxsSignFields = Table<uint8_t, 64>([](int i) {
  return 32 + 7 * (i % 4);
});
// Byte 8 q + k: group 8 k + q's sign byte, from byte q % 4 of qword 2 k + q / 4 (bytes
// 8 q + 4 .. 8 q + 7 are not read).
alignas(64) constexpr auto kIq2xxsSignPick = Table<uint8_t, 64>([](int i) {
  const int q = i / 8;
  const int k = i % 4;
  return 8 * (2 * k + q / 4) + q % 4;
});
// Step k: element e's 2-bit code is at bit 16 k + 2 e of qword q (IQ2_XXS and IQ2_XS).
alignas(64) constexpr auto kIq2LevelFields = StepTables<uint8_t, 64>([](int k, int i) {
  return 16 * k + 2 * (i % 8);
});
alignas(64) constexpr auto kIq2OffsetLevels = Table<uint8_t, 64>([](int i) {
  return Iq2xxs::kOffset + (i % 4 < 3 ? kIq2Magnitudes[i % 4] : 0);
});

class Iq2xxsDecoder {
 public:
  Iq2xxsDecoder() : lookups_(Codes()) {}

  void Decode(const BlockIQ2_XXS& b, WideBlock& out) const {
    const __m512i qs = _mm512_loadu_si512(b.qs);
    const __m512i entries = lookups_.Entries(
        _mm512_maskz_permutexvar_epi8(kEvenBytes, Load(kIq2xxsIndexPick.data()), qs));
    const __m512i sign_bytes =
        lookups_.SignBytes(_mm512_multishift_epi64_epi8(Load(kIq2xxsSignFields.data()), qs),
                           Load(kIq2xxsSignPick.data()));
#pragma GCC unroll 4
    for (int k = 0; k < kPairs; ++k) {
      out.codes[k] = StepCodes<Iq2xxs::kOffset>(
          entries, kIq2LevelFields[k].data(), kIq2OffsetLevels.data(),
          _mm512_bitshuffle_epi64_mask(sign_bytes, Load(kSignBits<1>[k].data())));
    }
    // 2 s + 1 per sub-block (qword ib): s is its top 4 bits, and bit 0 is made 1.
    SetSubBlockScales<Iq2xxs::kOffset>(
        _mm512_cvtepi64_epi32(_mm512_or_si512(_mm512_srli_epi64(qs, 59), _mm512_set1_epi64(1))),
        b.d, out);
  }

 private:
  static const GridCodes<256>& Codes() {
    static const GridCodes<256> kCodes = MakeGridCodes<2>(Iq2xxsGrid(), kIq2Magnitudes);
    return kCodes;
  }

  static constexpr __mmask64 kEvenBytes = 0x5555555555555555ULL;
  GridLookups<256> lookups_;
};

// ---- IQ2_XS ----
//
// qs holds a u16 per group in order: a 9-bit index and 7 sign bits; scales a 4-bit scale per
// 16 elements (Iq2NibbleScales).

// Word 4 q + k: group 8 k + q's u16.
alignas(64) constexpr auto kIq2xsWordPick = Table<uint16_t, 32>([](int w) {
  return 8 * (w % 4) + w / 4;
});
// Step k's scales: words 0..31 of the step are elements 64 k .. 64 k + 63 in pairs, so word w
// takes the scale of 16 elements 4 k + w / 8.
alignas(64) constexpr auto kIq2xsScalePicks = StepTables<uint16_t, 32>([](int k, int w) {
  return 4 * k + w / 8;
});

class Iq2xsDecoder {
 public:
  Iq2xsDecoder() : lookups_(Codes()) {}

  void Decode(const BlockIQ2_XS& b, WideBlock& out) const {
    const __m512i words =
        _mm512_permutexvar_epi16(Load(kIq2xsWordPick.data()), _mm512_loadu_si512(b.qs));
    const __m512i entries = lookups_.Entries(_mm512_and_si512(words, _mm512_set1_epi16(511)));
    // Byte 8 q + 2 k: group 8 k + q's sign byte (the odd bytes are not read).
    const __m512i sign_bytes = lookups_.SignBytes(_mm512_srli_epi16(words, 9));
    out.block = OffsetScales<Iq2xs::kOffset>(Iq2NibbleScales(b.scales), b.d);
    const __m512i per_sixteen = _mm512_zextsi256_si512(out.block.per_sixteen);
#pragma GCC unroll 4
    for (int k = 0; k < kPairs; ++k) {
      out.codes[k] = StepCodes<Iq2xs::kOffset>(
          entries, kIq2LevelFields[k].data(), kIq2OffsetLevels.data(),
          _mm512_bitshuffle_epi64_mask(sign_bytes, Load(kSignBits<2>[k].data())));
      out.scales[k] = _mm512_permutexvar_epi16(Load(kIq2xsScalePicks[k].data()), per_sixteen);
    }
  }

 private:
  static const GridCodes<512>& Codes() {
    static const GridCodes<512> kCodes = MakeGridCodes<2>(Iq2xsGrid(), kIq2Magnitudes);
    return kCodes;
  }

  GridLookups<512> lookups_;
};

// ---- IQ3_XXS ----
//
// qs holds 64 index bytes, one per 4 elements in order (group g's halves are bytes 2 g and
// 2 g + 1), then a dword per sub-block: 4 x 7 sign bits and the scale.

constexpr int kIq3xxsMagnitudes[] = {4, 12, 20, 28, 36, 44, 52, 62};

// Word 4 q + 2 (k % 2) + h of index vector k / 2 (high bytes zeroed): half h of group 8 k + q
// (IQ3_XXS and IQ3_S).
template <int kHalf>
alignas(64) constexpr auto kIq3IndexPick = Table<uint8_t, 64>([](int i) {
  const int q = i / 8;
  const int k = 2 * kHalf + i / 4 % 2;
  const int h = i / 2 % 2;
  return 16 * k + 2 * q + h;
});
// Byte 8 j + b of the sign dwords (qword j holds sub-blocks 2 j and 2 j + 1): the 7 sign bits
// of group 4 (2 j + b / 4) + b % 4, so byte g holds group g's.
alignas(64) constexpr auto kIq3xxsSignFields = Table<uint8_t, 64>([](int i) {
  return 32 * (i % 8 / 4) + 7 * (i % 4);
});
// Byte 8 q + k: group 8 k + q's sign byte from byte 8 k + q (bytes 8 q + 4 .. 8 q + 7 are not
// read; IQ3_XXS and IQ3_S).
alignas(64) constexpr auto kIq3SignPick = Table<uint8_t, 64>([](int i) {
  return 8 * (i % 4) + i / 8;
});
// Step k: element e's 3-bit code is at bit 3 (e % 4) of word 2 (k % 2) + e / 4 of qword q
// (IQ3_XXS and IQ3_S).
alignas(64) constexpr auto kIq3LevelFields = StepTables<uint8_t, 64>([](int k, int i) {
  return 16 * (2 * (k % 2) + i % 8 / 4) + 3 * (i % 4);
});
alignas(64) constexpr auto kIq3xxsOffsetLevels = Table<uint8_t, 64>([](int i) {
  return Iq3xxs::kOffset + kIq3xxsMagnitudes[i % 8];
});

class Iq3xxsDecoder {
 public:
  Iq3xxsDecoder() : lookups_(Codes()) {}

  void Decode(const BlockIQ3_XXS& b, WideBlock& out) const {
    const __m512i qs = _mm512_loadu_si512(b.qs);
    const __m512i entries[2] = {lookups_.Entries(_mm512_maskz_permutexvar_epi8(
                                    kEvenBytes, Load(kIq3IndexPick<0>.data()), qs)),
                                lookups_.Entries(_mm512_maskz_permutexvar_epi8(
                                    kEvenBytes, Load(kIq3IndexPick<1>.data()), qs))};
    const __m512i words = _mm512_zextsi256_si512(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + kQK_K / 4)));
    const __m512i sign_bytes =
        lookups_.SignBytes(_mm512_multishift_epi64_epi8(Load(kIq3xxsSignFields.data()), words),
                           Load(kIq3SignPick.data()));
#pragma GCC unroll 4
    for (int k = 0; k < kPairs; ++k) {
      out.codes[k] = StepCodes<Iq3xxs::kOffset>(
          entries[k / 2], kIq3LevelFields[k].data(), kIq3xxsOffsetLevels.data(),
          _mm512_bitshuffle_epi64_mask(sign_bytes, Load(kSignBits<1>[k].data())));
    }
    SetSubBlockScales<Iq3xxs::kOffset>(Iq3xxsSubBlockScales(b), b.d, out);
  }

 private:
  static const GridCodes<256>& Codes() {
    static const GridCodes<256> kCodes = MakeGridCodes<3>(Iq3xxsGrid(), kIq3xxsMagnitudes);
    return kCodes;
  }

  static constexpr __mmask64 kEvenBytes = 0x5555555555555555ULL;
  GridLookups<256> lookups_;
};

// ---- IQ3_S ----
//
// IQ3_XXS's index order, with a 9th index bit per half group in qh (bit h of its 8 bytes for
// half group h), an explicit sign byte per group, and a 4-bit scale per sub-block.

constexpr int kIq3sMagnitudes[] = {1, 3, 5, 7, 9, 11, 13, 15};

alignas(64) constexpr auto kIq3sOffsetLevels = Table<uint8_t, 64>([](int i) {
  return Iq3s::kOffset + kIq3sMagnitudes[i % 8];
});

class Iq3sDecoder {
 public:
  Iq3sDecoder() : lookups_(Codes()) {}

  void Decode(const BlockIQ3_S& b, WideBlock& out) const {
    const __m512i qs = _mm512_loadu_si512(b.qs);
    uint64_t qh = 0;
    std::memcpy(&qh, b.qh, sizeof(qh));
    const __m512i high_bits = _mm512_set1_epi64(static_cast<int64_t>(qh));
    const __m512i entries[2] = {Entries<0>(qs, high_bits), Entries<1>(qs, high_bits)};
    const __m512i sign_bytes = _mm512_permutexvar_epi8(
        Load(kIq3SignPick.data()),
        _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.signs))));
#pragma GCC unroll 4
    for (int k = 0; k < kPairs; ++k) {
      out.codes[k] = StepCodes<Iq3s::kOffset>(
          entries[k / 2], kIq3LevelFields[k].data(), kIq3sOffsetLevels.data(),
          _mm512_bitshuffle_epi64_mask(sign_bytes, Load(kSignBits<1>[k].data())));
    }
    SetSubBlockScales<Iq3s::kOffset>(Iq3sSubBlockScales(b), b.d, out);
  }

 private:
  static const GridCodes<512>& Codes() {
    static const GridCodes<512> kCodes = MakeGridCodes<3>(Iq3sGrid(), kIq3sMagnitudes);
    return kCodes;
  }

  // Index vector kHalf: the low bytes from qs, and the 9th bit set in the high byte of each word
  // whose qh bit is set (kIq3IndexPick names the word's half group in both its bytes, so it
  // also picks that bit out of qh).
  template <int kHalf>
  __m512i Entries(__m512i qs, __m512i high_bits) const {
    const __m512i low =
        _mm512_maskz_permutexvar_epi8(kEvenBytes, Load(kIq3IndexPick<kHalf>.data()), qs);
    const __mmask64 high =
        _mm512_bitshuffle_epi64_mask(high_bits, Load(kIq3IndexPick<kHalf>.data())) & ~kEvenBytes;
    return lookups_.Entries(_mm512_mask_mov_epi8(low, high, _mm512_set1_epi8(1)));
  }

  static constexpr __mmask64 kEvenBytes = 0x5555555555555555ULL;
  GridLookups<512> lookups_;
};

// ---- Dot and gemm ----

// Blocks reduced together: one per lane of SumPerToken.
constexpr int kBlocks = 16;

// One row's dot; the decoder (its tables in registers) is the caller's, so that a matvec loads
// them once for all its rows rather than once a row.
template <typename Type, typename Decoder>
float DotWith(const Decoder& decoder, int64_t n, const void* w, const void* q8_k) {
  const auto* x = static_cast<const typename Type::Block*>(w);
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
      for (int k = 0; k < kPairs; ++k) {
        q8[k] = _mm512_loadu_si512(act.qs + ptrdiff_t{kQK} * 2 * k);
      }
      partials[l] = Partials<Type::kAccScale>(block, act, q8);
      d[l] = block.block.d * act.d;
    }
    alignas(64) float terms[kBlocks];
    _mm512_store_ps(terms, Terms<Type>(_mm512_load_ps(d), SumPerToken<kBlocks>(partials)));
    for (int l = 0; l < count; ++l) sum += terms[l];
  }
  return Type::Finish(sum);
}

template <typename Type, typename Decoder>
float Dot(int64_t n, const void* w, const void* q8_k) {
  return DotWith<Type>(Decoder{}, n, w, q8_k);
}

// One token: the dot row by row (the table's matvec for these types). From kPanelMinTokens
// tokens on, the avx512 panels (`panels`: their decode is a small part of a wide tile's work);
// between, the two-row body over this file's decode.
template <typename Type, typename Decoder>
void Gemm(RowsDotFn panels, int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
          const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy) {
  if (n_tokens == 1) {  // decode's matvec: the dot per row, on one decoder
    const Decoder decoder;
    for (int64_t r = 0; r < n_rows; ++r)
      y[r] = DotWith<Type>(decoder, n_in, w + r * w_row_bytes, act);
  } else if (n_tokens >= kPanelMinTokens) {
    panels(n_in, w, w_row_bytes, n_rows, act, act_row_bytes, n_tokens, y, ldy);
  } else {
    FewTokenGemm<Type>(Decoder{}, n_in, w, w_row_bytes, n_rows, act, act_row_bytes, n_tokens, y,
                       ldy);
  }
}

}  // namespace

float DotIQ2_XXS(int64_t n, const void* w, const void* q8_k) {
  return Dot<Iq2xxs, Iq2xxsDecoder>(n, w, q8_k);
}
float DotIQ2_XS(int64_t n, const void* w, const void* q8_k) {
  return Dot<Iq2xs, Iq2xsDecoder>(n, w, q8_k);
}
float DotIQ3_XXS(int64_t n, const void* w, const void* q8_k) {
  return Dot<Iq3xxs, Iq3xxsDecoder>(n, w, q8_k);
}
float DotIQ3_S(int64_t n, const void* w, const void* q8_k) {
  return Dot<Iq3s, Iq3sDecoder>(n, w, q8_k);
}

void GemmIQ2_XXS(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
                 const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
                 int64_t ldy) {
  Gemm<Iq2xxs, Iq2xxsDecoder>(avx512::GemmIQ2_XXS, n_in, w, w_row_bytes, n_rows, act, act_row_bytes,
                              n_tokens, y, ldy);
}
void GemmIQ2_XS(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
                const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
                int64_t ldy) {
  Gemm<Iq2xs, Iq2xsDecoder>(avx512::GemmIQ2_XS, n_in, w, w_row_bytes, n_rows, act, act_row_bytes,
                            n_tokens, y, ldy);
}
void GemmIQ3_XXS(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
                 const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
                 int64_t ldy) {
  Gemm<Iq3xxs, Iq3xxsDecoder>(avx512::GemmIQ3_XXS, n_in, w, w_row_bytes, n_rows, act, act_row_bytes,
                              n_tokens, y, ldy);
}
void GemmIQ3_S(int64_t n_in, const std::byte* w, int64_t w_row_bytes, int64_t n_rows,
               const std::byte* act, int64_t act_row_bytes, int64_t n_tokens, float* y,
               int64_t ldy) {
  Gemm<Iq3s, Iq3sDecoder>(avx512::GemmIQ3_S, n_in, w, w_row_bytes, n_rows, act, act_row_bytes,
                          n_tokens, y, ldy);
}

}  // namespace dsinfer::kernels::avx512_vbmi
