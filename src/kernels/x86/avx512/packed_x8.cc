// AVX-512 (VNNI) bodies over the x8 layouts: the shared loops of x86/packed_x8_body.inc with
// vpdpbusd on 256-bit vectors (one row group per register), plus Q8_0, which needs VNNI's
// 32-bit accumulation of unsigned x signed bytes, and the gemm's wide tiles of four groups in
// 512-bit vectors (on Intel also the matvec of the 32-element types on long rows:
// kWideMatvecMinRow; elsewhere the group tiles read memory faster there, MatvecTiles).
// Measured on the project's AMD EPYC (12 independent chains, ~3.6 GHz): a 512-bit vpdpbusd issues
// once a cycle and a 256-bit one twice (3.5 and 7.0 G/s), 64 int8 MACs a cycle either way, while a
// 4-byte broadcast from memory feeding each issues about once a cycle, so the wide tiles, whose
// broadcasts each feed two 512-bit dots (32 rows), do four times the work per broadcast of the
// 256-bit ones and are bound by the dots instead.
// The Q4_0, Q5_0 and Q8_0 matvecs on short rows (packed_x8_short_rows.inc) can drop the
// broadcasts for 512-bit dots over activations laid out once per call (MatvecTiles). The
// K-quants' pair tiles (packed_x8_k_quant_pairs.inc) take two 32-byte pieces of a block's 8 rows
// per 512-bit vector: in gemms of a few tokens, in Q2_K's and Q3_K's matvecs, and under
// MatvecTiles::k512Bit in every matvec (KQuantBodies).
#include "kernels/x86/avx512/packed_x8.h"

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "base/check.h"
#include "kernels/packed_layout.h"
#include "kernels/x86/read_ahead.h"
#include "platform/memory_bandwidth.h"
#include "quant/blocks.h"

namespace dsinfer::kernels::avx512 {
namespace {

inline __m256i DotAccU8S8(__m256i acc, __m256i u8, __m256i s8) {
  return _mm256_dpbusd_epi32(acc, u8, s8);
}

constexpr bool kDotTakesFullBytes = true;
// 4 tokens: 8 integer and 8 float accumulators plus the weight vectors fit 32 registers.
constexpr int kGemmTokens = 4;

}  // namespace

#include "kernels/x86/packed_x8_body.inc"

namespace {

// One group of 8 Q8_0 rows against T tokens.
template <int T>
void GroupQ8_0(int64_t nb, const BlockQ8_0x8* w, const TokenTile<T>& tile) {
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    __m256i s0[T];
    __m256i s1[T];
    for (int t = 0; t < T; ++t) s0[t] = s1[t] = _mm256_setzero_si256();
    for (int64_t j = 0; j < 8; j += 2) {
      PrefetchAheadPart<4>(w + b, j / 2);
      const __m256i v0 = _mm256_xor_si256(Load32(w[b].qs[j]), bias);
      const __m256i v1 = _mm256_xor_si256(Load32(w[b].qs[j + 1]), bias);
      for (int t = 0; t < T; ++t) {
        const int8_t* q = reinterpret_cast<const BlockQ8_0*>(tile.act[t])[b].qs + 4 * j;
        s0[t] = _mm256_dpbusd_epi32(s0[t], v0, Broadcast32(q));
        s1[t] = _mm256_dpbusd_epi32(s1[t], v1, Broadcast32(q + 4));
      }
    }
    const __m256 d_w = Halves8(w[b].d);
    for (int t = 0; t < T; ++t) {
      acc[t] = AccumulateBlock(acc[t], d_w, tile.terms[t][b], tile.offset,
                               _mm256_add_epi32(s0[t], s1[t]));
    }
  }
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(tile.y[t], acc[t]);
}

// The wide gemm tiles: kWideGroups = 4 consecutive groups (32 rows) as two 512-bit vectors of
// 16 rows, so that each activation broadcast, which issues at most once a cycle here, feeds
// two vpdpbusd instead of one. Every lane runs
// the float operations of its row in the 256-bit group tiles, so results are bit-identical.
constexpr int kWideGroups = 4;

// The two 32-byte halves `lo` (rows of one group) and `hi` (the next group's) as one vector.
inline __m512i Load2x32(const void* lo, const void* hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(Load32(lo)), Load32(hi), 1);
}

inline __m512 Halves16(const uint16_t* lo, const uint16_t* hi) {
  const __m256i h = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lo))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(hi)), 1);
  return _mm512_cvtph_ps(h);
}

inline __m512i Broadcast32x16(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm512_set1_epi32(v);
}

// The float tail of a block shared by the wide Q4_0, Q5_0 and Q8_0 tiles: the group tiles'
// AccumulateBlock, lane by lane.
template <int T>
inline void AccumulateWide(const __m512 (&d)[2], const __m512i (&sum)[2][T], int64_t b,
                           const TokenTile<T>& tile, __m512 (&acc)[2][T]) {
  for (int t = 0; t < T; ++t) {
    DSI_DCHECK(tile.terms[t] != nullptr);  // BodiesOf's kOffset must be > 0 for this type
    const Q8_0BlockTerms a = tile.terms[t][b];
    const __m512i offset_sum = _mm512_set1_epi32(tile.offset * a.sum);
    for (int r = 0; r < 2; ++r) {
      const __m512i exact = _mm512_sub_epi32(sum[r][t], offset_sum);
      acc[r][t] = _mm512_fmadd_ps(_mm512_mul_ps(d[r], _mm512_set1_ps(a.d)),
                                  _mm512_cvtepi32_ps(exact), acc[r][t]);
    }
  }
}

template <int T>
inline void StoreWide(const __m512 (&acc)[2][T], const TokenTile<T>& tile) {
  for (int t = 0; t < T; ++t) {
    for (int r = 0; r < 2; ++r) _mm512_storeu_ps(tile.y[t] + 16 * r, acc[r][t]);
  }
}

// Four groups of 8 Q8_0 rows (w: the first; the others nb blocks apart) against T tokens.
template <int T>
void WideQ8_0(int64_t nb, const BlockQ8_0x8* w, const TokenTile<T>& tile) {
  const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512 acc[2][T];
  for (int r = 0; r < 2; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ8_0x8* g[4] = {w + b, w + nb + b, w + 2 * nb + b, w + 3 * nb + b};
    __m512i sum[2][T];
    for (int r = 0; r < 2; ++r) {
      for (int t = 0; t < T; ++t) sum[r][t] = _mm512_setzero_si512();
    }
    for (int64_t j = 0; j < 8; ++j) {
      const __m512i v0 = _mm512_xor_si512(Load2x32(g[0]->qs[j], g[1]->qs[j]), bias);
      const __m512i v1 = _mm512_xor_si512(Load2x32(g[2]->qs[j], g[3]->qs[j]), bias);
      for (int t = 0; t < T; ++t) {
        const __m512i q =
            Broadcast32x16(reinterpret_cast<const BlockQ8_0*>(tile.act[t])[b].qs + 4 * j);
        sum[0][t] = _mm512_dpbusd_epi32(sum[0][t], v0, q);
        sum[1][t] = _mm512_dpbusd_epi32(sum[1][t], v1, q);
      }
    }
    const __m512 d[2] = {Halves16(g[0]->d, g[1]->d), Halves16(g[2]->d, g[3]->d)};
    AccumulateWide(d, sum, b, tile, acc);
  }
  StoreWide(acc, tile);
}

// Four groups of 8 rows of a nibble type (NibbleType) against T tokens, with GroupNibbleLevels'
// fifth bits and code book. The high levels are shifted down once per weight vector, so low and
// high products share one exact int32 sum per row.
template <int T, typename Block>
void WideNibbleLevels(int64_t nb, const Block* w, const TokenTile<T>& tile) {
  using Type = NibbleType<Block>;
  using Activation = typename Type::Activation;
  const __m512i low_nibble = _mm512_set1_epi8(0x0F);
  const __m512i bit4 = _mm512_set1_epi8(0x10);
  __m512i book = _mm512_setzero_si512();
  if constexpr (Type::kCodeBook) book = _mm512_broadcast_i64x4(CodeBookLevels());
  __m512 acc[2][T];
  for (int r = 0; r < 2; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const Block* g[4] = {w + b, w + nb + b, w + 2 * nb + b, w + 3 * nb + b};
    __m512i h_hi[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
    __m512i h_lo[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
    if constexpr (Type::kFifthBit) {
      for (int r = 0; r < 2; ++r) {
        h_hi[r] = Load2x32(g[2 * r]->qh, g[2 * r + 1]->qh);
        h_lo[r] = _mm512_slli_epi32(h_hi[r], 4);
      }
    }
    __m512i sum[2][T];
    for (int r = 0; r < 2; ++r) {
      for (int t = 0; t < T; ++t) sum[r][t] = _mm512_setzero_si512();
    }
    for (int64_t j = 0; j < 4; ++j) {
      const __m512i v[2] = {Load2x32(g[0]->qs[j], g[1]->qs[j]), Load2x32(g[2]->qs[j], g[3]->qs[j])};
      __m512i lo[2];
      __m512i hi[2];
      for (int r = 0; r < 2; ++r) {
        lo[r] = _mm512_and_si512(v[r], low_nibble);
        hi[r] = _mm512_and_si512(_mm512_srli_epi16(v[r], 4), low_nibble);
        if constexpr (Type::kFifthBit) {
          lo[r] = _mm512_or_si512(lo[r], _mm512_and_si512(h_lo[r], bit4));
          hi[r] = _mm512_or_si512(hi[r], _mm512_and_si512(h_hi[r], bit4));
          h_lo[r] = _mm512_srli_epi32(h_lo[r], 1);
          h_hi[r] = _mm512_srli_epi32(h_hi[r], 1);
        }
        if constexpr (Type::kCodeBook) {
          lo[r] = _mm512_shuffle_epi8(book, lo[r]);
          hi[r] = _mm512_shuffle_epi8(book, hi[r]);
        }
      }
      for (int t = 0; t < T; ++t) {
        const int8_t* q = reinterpret_cast<const Activation*>(tile.act[t])[b].qs;
        const __m512i q_lo = Broadcast32x16(q + 4 * j);
        const __m512i q_hi = Broadcast32x16(q + 16 + 4 * j);
        for (int r = 0; r < 2; ++r) {
          sum[r][t] = _mm512_dpbusd_epi32(sum[r][t], lo[r], q_lo);
          sum[r][t] = _mm512_dpbusd_epi32(sum[r][t], hi[r], q_hi);
        }
      }
    }
    const __m512 d[2] = {Halves16(g[0]->d, g[1]->d), Halves16(g[2]->d, g[3]->d)};
    if constexpr (Type::kMin) {
      // GroupNibbleLevels' AccumulateMinBlock, lane by lane.
      const __m512 m[2] = {Halves16(g[0]->m, g[1]->m), Halves16(g[2]->m, g[3]->m)};
      for (int t = 0; t < T; ++t) {
        const BlockQ8_1& a = reinterpret_cast<const BlockQ8_1*>(tile.act[t])[b];
        const __m512 d_a = _mm512_set1_ps(_cvtsh_ss(a.d));
        const __m512 s_a = _mm512_set1_ps(_cvtsh_ss(a.s));
        for (int r = 0; r < 2; ++r) {
          acc[r][t] =
              _mm512_fmadd_ps(_mm512_mul_ps(d[r], d_a), _mm512_cvtepi32_ps(sum[r][t]), acc[r][t]);
          acc[r][t] = _mm512_fmadd_ps(m[r], s_a, acc[r][t]);
        }
      }
    } else {
      AccumulateWide(d, sum, b, tile, acc);
    }
  }
  StoreWide(acc, tile);
}

// Sixteen bytes, 8 from `lo` (rows of one group) and 8 from `hi` (the next group's), as int32.
inline __m512i Bytes16ToInt32(const uint8_t* lo, const uint8_t* hi) {
  const __m128i bytes = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(lo)),
                                           _mm_loadl_epi64(reinterpret_cast<const __m128i*>(hi)));
  return _mm512_cvtepu8_epi32(bytes);
}

// Sixteen signed bytes, 8 from `lo` and 8 from `hi`, as int32.
inline __m512i SignedBytes16ToInt32(const int8_t* lo, const int8_t* hi) {
  const __m128i bytes = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(lo)),
                                           _mm_loadl_epi64(reinterpret_cast<const __m128i*>(hi)));
  return _mm512_cvtepi8_epi32(bytes);
}

// The 8 rows' sums of a vector whose halves hold sums of the same 8 rows (two k-groups, or
// two sub-blocks).
inline __m256i SumHalves(__m512i v) {
  return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

// Four groups of 8 Q4_K or Q5_K rows against T <= 2 tokens (the integer sums of both halves of
// each 64-element chunk, the scaled block sum and the float accumulator take 8 registers a
// token). Every lane runs GroupKNibbleLevels' integer sums and float operations of its row, so
// results are bit-identical to the group tiles.
template <int T, typename Block>
void WideKNibbleLevelsTokens(int64_t nb, const Block* w, const TokenTile<T>& tile) {
  constexpr bool kFifthBit = std::is_same_v<Block, BlockQ5_Kx8>;
  const __m512i low_nibble = _mm512_set1_epi8(0x0F);
  const __m512i bit4 = _mm512_set1_epi8(0x10);
  __m512 acc[2][T];
  for (int r = 0; r < 2; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const Block* g[4] = {w + b, w + nb + b, w + 2 * nb + b, w + 3 * nb + b};
    // The two groups of each 512-bit row vector r: its low and high 256-bit halves.
    const Block* low[2] = {g[0], g[2]};
    const Block* high[2] = {g[1], g[3]};
    const BlockQ8_K* a[T];
    for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(tile.act[t]) + b;
    __m512i sum[2][T];
    for (int r = 0; r < 2; ++r) {
      for (int t = 0; t < T; ++t) sum[r][t] = _mm512_setzero_si512();
    }
    for (int64_t c = 0; c < 4; ++c) {
      __m512i lo[2][T];
      __m512i hi[2][T];
      for (int r = 0; r < 2; ++r) {
        for (int t = 0; t < T; ++t) lo[r][t] = hi[r][t] = _mm512_setzero_si512();
      }
      for (int64_t j = 0; j < 8; ++j) {
        const __m512i v[2] = {Load2x32(g[0]->qs[c][j], g[1]->qs[c][j]),
                              Load2x32(g[2]->qs[c][j], g[3]->qs[c][j])};
        __m512i v_lo[2];
        __m512i v_hi[2];
        for (int r = 0; r < 2; ++r) {
          v_lo[r] = _mm512_and_si512(v[r], low_nibble);
          v_hi[r] = _mm512_and_si512(_mm512_srli_epi16(v[r], 4), low_nibble);
          if constexpr (kFifthBit) {
            const __m512i h = _mm512_srli_epi16(Load2x32(low[r]->qh[j], high[r]->qh[j]),
                                                static_cast<unsigned>(2 * c));
            v_lo[r] = _mm512_or_si512(v_lo[r], _mm512_and_si512(_mm512_slli_epi16(h, 4), bit4));
            v_hi[r] = _mm512_or_si512(v_hi[r], _mm512_and_si512(_mm512_slli_epi16(h, 3), bit4));
          }
        }
        for (int t = 0; t < T; ++t) {
          const int8_t* q = a[t]->qs + 64 * c + 4 * j;
          const __m512i q_lo = Broadcast32x16(q);
          const __m512i q_hi = Broadcast32x16(q + 32);
          for (int r = 0; r < 2; ++r) {
            lo[r][t] = _mm512_dpbusd_epi32(lo[r][t], v_lo[r], q_lo);
            hi[r][t] = _mm512_dpbusd_epi32(hi[r][t], v_hi[r], q_hi);
          }
        }
      }
      for (int r = 0; r < 2; ++r) {
        const __m512i scale_lo = Bytes16ToInt32(low[r]->scales[2 * c], high[r]->scales[2 * c]);
        const __m512i scale_hi =
            Bytes16ToInt32(low[r]->scales[2 * c + 1], high[r]->scales[2 * c + 1]);
        for (int t = 0; t < T; ++t) {
          sum[r][t] = _mm512_add_epi32(sum[r][t], _mm512_mullo_epi32(lo[r][t], scale_lo));
          sum[r][t] = _mm512_add_epi32(sum[r][t], _mm512_mullo_epi32(hi[r][t], scale_hi));
        }
      }
    }
    __m512i min_sum[2][T];
    for (int r = 0; r < 2; ++r) {
      for (int t = 0; t < T; ++t) min_sum[r][t] = _mm512_setzero_si512();
    }
    for (int64_t sub = 0; sub < 8; ++sub) {
      for (int r = 0; r < 2; ++r) {
        const __m512i mins = Bytes16ToInt32(low[r]->mins[sub], high[r]->mins[sub]);
        for (int t = 0; t < T; ++t) {
          const int32_t bsum = a[t]->bsums[2 * sub] + a[t]->bsums[2 * sub + 1];
          min_sum[r][t] =
              _mm512_add_epi32(min_sum[r][t], _mm512_mullo_epi32(mins, _mm512_set1_epi32(bsum)));
        }
      }
    }
    for (int r = 0; r < 2; ++r) {
      const __m512 d = Halves16(low[r]->d, high[r]->d);
      const __m512 dmin = Halves16(low[r]->dmin, high[r]->dmin);
      for (int t = 0; t < T; ++t) {
        const __m512 d_a = _mm512_set1_ps(a[t]->d);
        acc[r][t] =
            _mm512_fmadd_ps(_mm512_mul_ps(d, d_a), _mm512_cvtepi32_ps(sum[r][t]), acc[r][t]);
        acc[r][t] = _mm512_fnmadd_ps(_mm512_mul_ps(dmin, d_a), _mm512_cvtepi32_ps(min_sum[r][t]),
                                     acc[r][t]);
      }
    }
  }
  StoreWide(acc, tile);
}

// Four groups of 8 Q6_K rows against T <= 2 tokens: GroupQ6_KTokens lane by lane (the same
// exact integer sums and float operations, so bit-identical to it). The four quadrants of a
// k-group are taken a pair at a time, (0, 1) from the low nibbles and (2, 3) from the high ones,
// its three vectors loaded again (from L1) for the second pair, so that the quadrants' integer
// sums fit the registers with two tokens.
template <int T>
void WideQ6_KTokens(int64_t nb, const BlockQ6_Kx8* w, const TokenTile<T>& tile) {
  const __m512i low_nibble = _mm512_set1_epi8(0x0F);
  const __m512i bits45 = _mm512_set1_epi8(0x30);
  __m512 acc[2][T];
  for (int r = 0; r < 2; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ6_Kx8* g[4] = {w + b, w + nb + b, w + 2 * nb + b, w + 3 * nb + b};
    const BlockQ6_Kx8* low[2] = {g[0], g[2]};
    const BlockQ6_Kx8* high[2] = {g[1], g[3]};
    const BlockQ8_K* a[T];
    for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(tile.act[t]) + b;
    __m512i sum[2][T];
    for (int r = 0; r < 2; ++r) {
      for (int t = 0; t < T; ++t) sum[r][t] = _mm512_setzero_si512();
    }
    for (int64_t h = 0; h < 2; ++h) {
      for (int64_t half_sub = 0; half_sub < 2; ++half_sub) {
        for (int64_t pair = 0; pair < 2; ++pair) {
          __m512i quad[2][2][T];  // [quadrant 2 pair + i][r][t]
          for (int i = 0; i < 2; ++i) {
            for (int r = 0; r < 2; ++r) {
              for (int t = 0; t < T; ++t) quad[i][r][t] = _mm512_setzero_si512();
            }
          }
          for (int64_t j = 4 * half_sub; j < 4 * half_sub + 4; ++j) {
            __m512i level[2][2];  // [i][r]
            for (int r = 0; r < 2; ++r) {
              __m512i v0 = Load2x32(low[r]->q[h][j][0], high[r]->q[h][j][0]);
              __m512i v1 = Load2x32(low[r]->q[h][j][1], high[r]->q[h][j][1]);
              const __m512i hb = Load2x32(low[r]->q[h][j][2], high[r]->q[h][j][2]);
              __m512i h0 = _mm512_slli_epi16(hb, 4);
              __m512i h1 = _mm512_slli_epi16(hb, 2);
              if (pair == 1) {
                v0 = _mm512_srli_epi16(v0, 4);
                v1 = _mm512_srli_epi16(v1, 4);
                h0 = hb;
                h1 = _mm512_srli_epi16(hb, 2);
              }
              level[0][r] =
                  _mm512_or_si512(_mm512_and_si512(v0, low_nibble), _mm512_and_si512(h0, bits45));
              level[1][r] =
                  _mm512_or_si512(_mm512_and_si512(v1, low_nibble), _mm512_and_si512(h1, bits45));
            }
            for (int t = 0; t < T; ++t) {
              const int8_t* q = a[t]->qs + 128 * h + 64 * pair + 4 * j;
              for (int64_t i = 0; i < 2; ++i) {
                const __m512i q_i = Broadcast32x16(q + 32 * i);
                for (int r = 0; r < 2; ++r) {
                  quad[i][r][t] = _mm512_dpbusd_epi32(quad[i][r][t], level[i][r], q_i);
                }
              }
            }
          }
          for (int64_t i = 0; i < 2; ++i) {
            const int64_t sub = 8 * h + 2 * (2 * pair + i) + half_sub;
            for (int r = 0; r < 2; ++r) {
              const __m512i scale = SignedBytes16ToInt32(low[r]->scales[sub], high[r]->scales[sub]);
              for (int t = 0; t < T; ++t) {
                const __m512i exact =
                    _mm512_sub_epi32(quad[i][r][t], _mm512_set1_epi32(32 * a[t]->bsums[sub]));
                sum[r][t] = _mm512_add_epi32(sum[r][t], _mm512_mullo_epi32(exact, scale));
              }
            }
          }
        }
      }
    }
    for (int r = 0; r < 2; ++r) {
      const __m512 d = Halves16(low[r]->d, high[r]->d);
      for (int t = 0; t < T; ++t) {
        acc[r][t] = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(a[t]->d)),
                                    _mm512_cvtepi32_ps(sum[r][t]), acc[r][t]);
      }
    }
  }
  StoreWide(acc, tile);
}

template <int T>
void WideQ6_K(int64_t nb, const BlockQ6_Kx8* w, const TokenTile<T>& tile) {
  InPartsOfAtMost<2>(tile, [&](const auto& part) { WideQ6_KTokens(nb, w, part); });
}

// T tokens as tiles of at most 2 (the four groups' weights, 4 x 1184 bytes per block, are read
// again for each pair, from L1 or L2 at DeepSeek widths).
template <int T, typename Block>
void WideKNibbleLevels(int64_t nb, const Block* w, const TokenTile<T>& tile) {
  InPartsOfAtMost<2>(tile, [&](const auto& part) { WideKNibbleLevelsTokens(nb, w, part); });
}

constexpr auto kGroupQ8_0 = [](int64_t nb, const BlockQ8_0x8* w, const auto& tile) {
  GroupQ8_0(nb, w, tile);
};
constexpr auto kWideQ8_0 = [](int64_t nb, const BlockQ8_0x8* w, const auto& tile) {
  WideQ8_0(nb, w, tile);
};
constexpr auto kWideQ4_0 = [](int64_t nb, const BlockQ4_0x8* w, const auto& tile) {
  WideNibbleLevels(nb, w, tile);
};
constexpr auto kWideQ5_0 = [](int64_t nb, const BlockQ5_0x8* w, const auto& tile) {
  WideNibbleLevels(nb, w, tile);
};
constexpr auto kWideQ4_1 = [](int64_t nb, const BlockQ4_1x8* w, const auto& tile) {
  WideNibbleLevels(nb, w, tile);
};
constexpr auto kWideQ5_1 = [](int64_t nb, const BlockQ5_1x8* w, const auto& tile) {
  WideNibbleLevels(nb, w, tile);
};
constexpr auto kWideIQ4_NL = [](int64_t nb, const BlockIQ4_NLx8* w, const auto& tile) {
  WideNibbleLevels(nb, w, tile);
};
constexpr auto kWideQ4_K = [](int64_t nb, const BlockQ4_Kx8* w, const auto& tile) {
  WideKNibbleLevels(nb, w, tile);
};
constexpr auto kWideQ5_K = [](int64_t nb, const BlockQ5_Kx8* w, const auto& tile) {
  WideKNibbleLevels(nb, w, tile);
};
constexpr auto kWideQ6_K = [](int64_t nb, const BlockQ6_Kx8* w, const auto& tile) {
  WideQ6_K(nb, w, tile);
};

#include "kernels/x86/avx512/packed_x8_k_quant_pairs.inc"
#include "kernels/x86/avx512/packed_x8_short_rows.inc"

// Gemms of fewer tokens than this take the group tiles under MatvecTiles::k256Bit (and on short
// rows under kWideOnLongRows). On AMD Zen 5, 8960 x 1536 from memory, alternating
// (bench/README.md): the group tile read 1.4-1.6x the wide tile's bytes a second at 2 and 3
// tokens (Q4_0 and Q4_K), 1.2-1.6x at 4 and 6; at 8 the wide tile read 1.35x for Q4_0 (Q4_K's
// group tile 1.08x), and at 16 1.1-1.6x for both: from there the group tile's arithmetic is what
// limits.
constexpr int kWideMinTokensOfGroupTiles = 8;

// BodiesOf a type whose memory-bound products run `tiles` (MatvecTiles): the spread pairs
// (NoShortRows where a type has none) only under k512Bit.
template <typename Block, int64_t kBlockSize, int32_t kOffset, typename Group, typename Wide,
          typename ShortRows = NoShortRows>
PackedBodies BodiesWithMatvecTiles(Group group, Wide wide, MatvecTiles tiles,
                                   ShortRows spread_pairs = {}) {
  switch (tiles) {
    case MatvecTiles::k512Bit:
      return BodiesOf<Block, kBlockSize, kOffset, kWideGroups>(group, wide, spread_pairs);
    case MatvecTiles::kWideOnLongRows:
      return BodiesOf<Block, kBlockSize, kOffset, kWideGroups, kWideMinTokensOfGroupTiles>(group,
                                                                                           wide);
    case MatvecTiles::k256Bit: break;
  }
  return BodiesOf<Block, kBlockSize, kOffset, kWideGroups, kWideMinTokensOfGroupTiles,
                  kNoRowLongEnough>(group, wide);
}

// The 256-bit group tile for a single token, the 512-bit pair tile (packed_x8_k_quant_pairs.inc)
// for tiles of two or more tokens, which their arithmetic binds sooner. On AMD Zen 5, two threads
// from memory, alternating (bench/README.md): Q4_K's pairs read 0.81-0.83 of a probe beside them
// over the 1.5B shape's matrices against the group tile's 0.89-0.98, and whole 1.5B files decode
// at 0.78-0.81 of the probes against 0.82-0.91 (Q5_K 0.85-0.87 against 0.90-1.00), though from
// L2 the pairs run 1.4-1.6x as fast; at 6 tokens they read ~10 % more. Whole Q6_K files decode
// 3-8 % faster with the group tile in four rounds of seven (level in the other three). Both give
// the same bits.
template <typename OneTokenGroup, typename Pairs>
struct GroupTileForOneTokenElsePairs {
  template <typename Block, int T>
  void operator()(int64_t nb, const Block* w, const TokenTile<T>& tile) const {
    if constexpr (T == 1) {
      OneTokenGroup{}(nb, w, tile);
    } else {
      Pairs{}(nb, w, tile);
    }
  }
};

// BodiesWithMatvecTiles of Q4_K, Q5_K or Q6_K: the pair tiles at every token count under k512Bit
// (on Intel, where the spread pairs' fewer instructions a byte read memory faster; the K-quant
// pairs are unmeasured there); elsewhere a single token's matvec takes the 256-bit group tile.
template <typename Block, typename Group, typename Pairs, typename Wide>
PackedBodies KQuantBodies(Group /*group*/, Pairs pairs, Wide wide, MatvecTiles tiles) {
  if (tiles == MatvecTiles::k512Bit) {
    return BodiesWithMatvecTiles<Block, kQK_K, 0>(pairs, wide, tiles);
  }
  return BodiesWithMatvecTiles<Block, kQK_K, 0>(GroupTileForOneTokenElsePairs<Group, Pairs>{}, wide,
                                                tiles);
}

}  // namespace

MatvecTiles MatvecTilesFor(const CpuFeatures& cpu) {
  if (cpu.vendor == "GenuineIntel") return MatvecTiles::k512Bit;
  constexpr int kZen4Family = 0x19;  // Zen 3 too, which has no avx512 level
  if (cpu.vendor == "AuthenticAMD" && cpu.family == kZen4Family) {
    return MatvecTiles::kWideOnLongRows;
  }
  return MatvecTiles::k256Bit;
}

PackedBodies PackedBodiesFor(DType dtype, MatvecTiles tiles) {
  switch (dtype) {
    case DType::kQ4_0:
      return BodiesWithMatvecTiles<BlockQ4_0x8, kQK, 8>(kGroupQ4_0, kWideQ4_0, tiles,
                                                        kShortRowsQ4_0);
    case DType::kQ5_0:
      return BodiesWithMatvecTiles<BlockQ5_0x8, kQK, 16>(kGroupQ5_0, kWideQ5_0, tiles,
                                                         kShortRowsQ5_0);
    case DType::kQ4_1:
      return BodiesWithMatvecTiles<BlockQ4_1x8, kQK, 0>(kGroupQ4_1, kWideQ4_1, tiles);
    case DType::kQ5_1:
      return BodiesWithMatvecTiles<BlockQ5_1x8, kQK, 0>(kGroupQ5_1, kWideQ5_1, tiles);
    case DType::kIQ4_NL:  // code-book levels biased by 128, as Q8_0's
      return BodiesWithMatvecTiles<BlockIQ4_NLx8, kQK, 128>(kGroupIQ4_NL, kWideIQ4_NL, tiles);
    case DType::kQ8_0:
      return BodiesWithMatvecTiles<BlockQ8_0x8, kQK, 128>(kGroupQ8_0, kWideQ8_0, tiles,
                                                          kShortRowsQ8_0);
    case DType::kIQ4_XS: return BodiesOf<BlockIQ4_XSx8, kQK_K, 0, 1>(kGroupIQ4_XS, kNoWide);
    case DType::kQ2_K: return BodiesOf<BlockQ2_Kx8, kQK_K, 0, 1>(kPairsQ2_K, kNoWide);
    case DType::kQ3_K: return BodiesOf<BlockQ3_Kx8, kQK_K, 0, 1>(kPairsQ3_K, kNoWide);
    case DType::kQ4_K: return KQuantBodies<BlockQ4_Kx8>(kGroupQ4_K, kPairsQ4_K, kWideQ4_K, tiles);
    case DType::kQ5_K: return KQuantBodies<BlockQ5_Kx8>(kGroupQ5_K, kPairsQ5_K, kWideQ5_K, tiles);
    case DType::kQ6_K: return KQuantBodies<BlockQ6_Kx8>(kGroupQ6_K, kPairsQ6_K, kWideQ6_K, tiles);
    default: return {};
  }
}

}  // namespace dsinfer::kernels::avx512
