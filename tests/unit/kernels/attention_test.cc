// Paged causal attention (GQA) and absorbed MLA: the scalar reference against naive dense
// attention written here (contiguous K/V, an explicit causal mask), absorbed MLA against the
// expanded per-head form, the fast bodies of every ISA level this CPU has against the
// reference (inline and threaded), and the argument checks.
//
// Every paged cache below is built through a shuffled block table over a pool with spare
// blocks, and every slot no table entry points at (spare blocks, the tail of the last block)
// holds NaN: an op that reads a wrong slot returns NaN and fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/attention.h"
#include "kernels/reference/attention.h"
#include "platform/cpu_features.h"
#include "platform/thread_pool.h"
#include "quant/half.h"

namespace dsinfer::kernels {
namespace {

constexpr double kUnit = 1.0 / (1 << 24);  // float unit roundoff

// What an F16 cache holds of `x`.
std::vector<float> RoundThroughF16(std::vector<float> x) {
  for (float& v : x) v = Fp16ToFp32(Fp32ToFp16(v));
  return x;
}

// Dense per-token rows [length, row_elems] copied into a paged pool.
struct PagedRows {
  std::vector<int32_t> table;  // ceil(length / block_size) shuffled ids
  std::vector<float> f32;      // [n_blocks, block_size, row_elems]
  std::vector<uint16_t> f16;   // the same, as F16

  std::span<const std::byte> Bytes(DType dtype) const {
    if (dtype == DType::kF16) return std::as_bytes(std::span(f16));
    return std::as_bytes(std::span(f32));
  }
};

PagedRows Page(const std::vector<float>& rows, int64_t row_elems, int64_t length,
               int64_t block_size, uint32_t seed) {
  const int64_t needed = (length + block_size - 1) / block_size;
  const int64_t n_blocks = 2 * needed + 1;
  std::vector<int32_t> ids(static_cast<size_t>(n_blocks));
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), std::mt19937(seed));
  PagedRows paged;
  paged.table.assign(ids.begin(), ids.begin() + needed);
  paged.f32.assign(static_cast<size_t>(n_blocks * block_size * row_elems),
                   std::numeric_limits<float>::quiet_NaN());
  for (int64_t t = 0; t < length; ++t) {
    const int64_t slot =
        int64_t{paged.table[static_cast<size_t>(t / block_size)]} * block_size + t % block_size;
    std::copy_n(rows.begin() + t * row_elems, row_elems, paged.f32.begin() + slot * row_elems);
  }
  for (float v : paged.f32) paged.f16.push_back(Fp32ToFp16(v));
  return paged;
}

struct GqaCase {
  int64_t block_size;
  int64_t n_heads;
  int64_t n_kv_heads;
  int64_t head_dim_k;
  int64_t head_dim_v;
  int64_t n_past;
  int64_t n_tokens;
  float scale;
};

// Block sizes 1, 3, 16 with lengths that are not multiples of them; GQA ratios 1, 2, 3, 6, 8;
// prefill from empty, chunked prefill, decode; head dims that leave SIMD tails.
std::vector<GqaCase> GqaCases() {
  return {
      {1, 4, 4, 8, 8, 0, 9, 0.35f},
      {3, 4, 2, 13, 7, 10, 1, 0.28f},
      {16, 16, 2, 64, 32, 21, 12, 0.125f},
      {16, 8, 1, 128, 128, 40, 1, 0.088f},
      {3, 8, 8, 24, 40, 5, 17, 0.2f},
      {16, 32, 8, 128, 128, 100, 1, 0.088f},
      {1, 6, 2, 5, 3, 2, 3, 2.0f},
      {16, 4, 2, 33, 17, 0, 40, 1.5f},
      // Groups of 6 (R1-Distill-Qwen-1.5B: 12 heads over 2), the shape the benchmarks run:
      // prefill tiles of 12 and 6 rows, decode tiles of 6 and of 4 + 2 (3 threads), also with
      // dims that leave tails.
      {16, 12, 2, 128, 128, 30, 5, 0.088f},
      {16, 12, 2, 72, 40, 19, 1, 0.11f},
      // Long enough to split (512 positions and up): decodes, whose rows are too few for 3 or
      // 8 threads, on blocks of 16 and of 3, and a prefill.
      {16, 12, 2, 24, 16, 1500, 1, 0.2f},
      {3, 8, 2, 12, 8, 700, 1, 0.3f},
      {16, 4, 2, 16, 8, 530, 40, 0.3f},
  };
}

// The inputs of one GQA case, dense and paged.
struct GqaData {
  GqaCase c;
  int64_t length;
  std::vector<float> q;  // [n_tokens, n_heads, head_dim_k]
  std::vector<float> k;  // [length, n_kv_heads, head_dim_k]
  std::vector<float> v;  // [length, n_kv_heads, head_dim_v]
  PagedRows paged_k, paged_v;

  PagedKvCache Cache(DType dtype) const {
    return {.dtype = dtype,
            .block_size = c.block_size,
            .n_kv_heads = c.n_kv_heads,
            .head_dim_k = c.head_dim_k,
            .head_dim_v = c.head_dim_v,
            .k_pool = paged_k.Bytes(dtype),
            .v_pool = paged_v.Bytes(dtype)};
  }
  AttentionParams Params() const {
    return {.n_tokens = c.n_tokens, .n_heads = c.n_heads, .n_past = c.n_past, .scale = c.scale};
  }
  size_t OutSize() const { return static_cast<size_t>(c.n_tokens * c.n_heads * c.head_dim_v); }
};

GqaData MakeGqa(const GqaCase& c, uint32_t seed) {
  GqaData d{.c = c, .length = c.n_past + c.n_tokens};
  d.q = RandomFloats(c.n_tokens * c.n_heads * c.head_dim_k, seed);
  d.k = RandomFloats(d.length * c.n_kv_heads * c.head_dim_k, seed + 1);
  d.v = RandomFloats(d.length * c.n_kv_heads * c.head_dim_v, seed + 2);
  // Both pools share one table, as the engine's do.
  d.paged_k = Page(d.k, c.n_kv_heads * c.head_dim_k, d.length, c.block_size, seed + 3);
  d.paged_v = Page(d.v, c.n_kv_heads * c.head_dim_v, d.length, c.block_size, seed + 3);
  return d;
}

// Dense attention as a textbook writes it: the full [n_tokens, length] score matrix plus an
// explicit causal mask (0 or -inf), softmax and weighted sum, all in double.
std::vector<double> NaiveAttention(const GqaCase& c, const std::vector<float>& q,
                                   const std::vector<float>& k, const std::vector<float>& v) {
  const int64_t length = c.n_past + c.n_tokens;
  const int64_t group = c.n_heads / c.n_kv_heads;
  std::vector<double> out(static_cast<size_t>(c.n_tokens * c.n_heads * c.head_dim_v), 0.0);
  for (int64_t i = 0; i < c.n_tokens; ++i) {
    for (int64_t h = 0; h < c.n_heads; ++h) {
      const int64_t g = h / group;
      std::vector<double> p(static_cast<size_t>(length));
      for (int64_t t = 0; t < length; ++t) {
        double dot = 0.0;
        for (int64_t e = 0; e < c.head_dim_k; ++e) {
          dot += double{q[static_cast<size_t>((i * c.n_heads + h) * c.head_dim_k + e)]} *
                 k[static_cast<size_t>((t * c.n_kv_heads + g) * c.head_dim_k + e)];
        }
        const double mask = t <= c.n_past + i ? 0.0 : -std::numeric_limits<double>::infinity();
        p[static_cast<size_t>(t)] = c.scale * dot + mask;
      }
      const double max = *std::max_element(p.begin(), p.end());
      double sum = 0.0;
      for (double& x : p) sum += (x = std::exp(x - max));
      for (int64_t t = 0; t < length; ++t) {
        for (int64_t e = 0; e < c.head_dim_v; ++e) {
          out[static_cast<size_t>((i * c.n_heads + h) * c.head_dim_v + e)] +=
              p[static_cast<size_t>(t)] / sum *
              v[static_cast<size_t>((t * c.n_kv_heads + g) * c.head_dim_v + e)];
        }
      }
    }
  }
  return out;
}

double MaxAbs(const std::vector<float>& x) {
  double m = 0.0;
  for (float v : x) m = std::max(m, std::fabs(double{v}));
  return m;
}

std::string Describe(const GqaCase& c) {
  return "bs " + std::to_string(c.block_size) + " heads " + std::to_string(c.n_heads) + "/" +
         std::to_string(c.n_kv_heads) + " dims " + std::to_string(c.head_dim_k) + "/" +
         std::to_string(c.head_dim_v) + " past " + std::to_string(c.n_past) + " tokens " +
         std::to_string(c.n_tokens);
}

TEST(AttentionReferenceTest, PagedEqualsNaiveDenseAttention) {
  uint32_t seed = 100;
  for (const GqaCase& c : GqaCases()) {
    for (DType dtype : {DType::kF32, DType::kF16}) {
      SCOPED_TRACE(Describe(c) + " " + std::string(DTypeName(dtype)));
      const GqaData d = MakeGqa(c, seed += 10);
      const bool f16 = dtype == DType::kF16;
      const std::vector<double> want = NaiveAttention(c, d.q, f16 ? RoundThroughF16(d.k) : d.k,
                                                      f16 ? RoundThroughF16(d.v) : d.v);
      std::vector<float> got(d.OutSize());
      ASSERT_TRUE(
          dsinfer::AttentionPaged(d.q, d.Cache(dtype), d.paged_k.table, d.Params(), got).ok());
      // Both compute in double and round once: at most one float ulp of an output, which is
      // below 2^-23 * max|v|.
      const double tol = 1e-6 * MaxAbs(d.v);
      for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], tol) << "at " << i;
    }
  }
}

// An absorbed-MLA case: H heads, latent rank, rope dims, and the expanded per-head dims.
struct MlaCase {
  int64_t block_size;
  int64_t n_heads;
  int64_t rank;
  int64_t rope;
  int64_t nope;  // qk_nope_head_dim
  int64_t dim_v;
  int64_t n_past;
  int64_t n_tokens;
  float scale;
};

struct MlaData {
  MlaCase c;
  int64_t length;
  std::vector<float> latent;  // [length, rank + rope]: c_kv then k_pe
  std::vector<float> q_abs;   // [n_tokens, n_heads, rank]
  std::vector<float> q_pe;    // [n_tokens, n_heads, rope]
  PagedRows paged;

  PagedLatentCache Cache(DType dtype) const {
    return {.dtype = dtype,
            .block_size = c.block_size,
            .kv_lora_rank = c.rank,
            .qk_rope_head_dim = c.rope,
            .pool = paged.Bytes(dtype)};
  }
  AttentionParams Params() const {
    return {.n_tokens = c.n_tokens, .n_heads = c.n_heads, .n_past = c.n_past, .scale = c.scale};
  }
  size_t OutSize() const { return static_cast<size_t>(c.n_tokens * c.n_heads * c.rank); }
};

MlaData MakeMla(const MlaCase& c, uint32_t seed) {
  MlaData d{.c = c, .length = c.n_past + c.n_tokens};
  d.latent = RandomFloats(d.length * (c.rank + c.rope), seed);
  d.q_abs = RandomFloats(c.n_tokens * c.n_heads * c.rank, seed + 1);
  d.q_pe = RandomFloats(c.n_tokens * c.n_heads * c.rope, seed + 2);
  d.paged = Page(d.latent, c.rank + c.rope, d.length, c.block_size, seed + 3);
  return d;
}

TEST(AttentionReferenceTest, AbsorbedMlaEqualsExpandedMla) {
  const std::vector<MlaCase> cases = {{3, 4, 32, 8, 16, 12, 13, 5, 0.3f},
                                      {16, 3, 40, 8, 24, 20, 36, 1, 0.2f},
                                      {1, 2, 16, 4, 8, 8, 0, 6, 0.5f}};
  uint32_t seed = 500;
  for (const MlaCase& c : cases) {
    SCOPED_TRACE("mla bs " + std::to_string(c.block_size) + " past " + std::to_string(c.n_past));
    MlaData d = MakeMla(c, seed += 10);
    const int64_t row = c.rank + c.rope;
    const auto w_uk = RandomFloats(c.n_heads * c.nope * c.rank, seed + 5);   // [H, nope, rank]
    const auto w_uv = RandomFloats(c.n_heads * c.dim_v * c.rank, seed + 6);  // [H, dim_v, rank]
    const auto q_nope = RandomFloats(c.n_tokens * c.n_heads * c.nope, seed + 7);
    // Expanded: per head K = [W_UK c_kv ; k_pe], V = W_UV c_kv, q = [q_nope ; q_pe].
    const GqaCase expanded{c.block_size, c.n_heads, c.n_heads,  c.nope + c.rope,
                           c.dim_v,      c.n_past,  c.n_tokens, c.scale};
    std::vector<float> q(static_cast<size_t>(c.n_tokens * c.n_heads * (c.nope + c.rope)));
    std::vector<float> k(static_cast<size_t>(d.length * c.n_heads * (c.nope + c.rope)));
    std::vector<float> v(static_cast<size_t>(d.length * c.n_heads * c.dim_v));
    auto mat_vec = [&](const std::vector<float>& w, int64_t h, int64_t rows, int64_t r,
                       const float* x) {  // (W[h] x)[r] in double
      double s = 0.0;
      for (int64_t j = 0; j < c.rank; ++j) s += double{w[((h * rows) + r) * c.rank + j]} * x[j];
      return s;
    };
    for (int64_t t = 0; t < d.length; ++t) {
      const float* ckv = d.latent.data() + t * row;
      for (int64_t h = 0; h < c.n_heads; ++h) {
        float* kh = k.data() + (t * c.n_heads + h) * (c.nope + c.rope);
        for (int64_t r = 0; r < c.nope; ++r)
          kh[r] = static_cast<float>(mat_vec(w_uk, h, c.nope, r, ckv));
        std::copy_n(ckv + c.rank, c.rope, kh + c.nope);
        for (int64_t r = 0; r < c.dim_v; ++r) {
          v[static_cast<size_t>((t * c.n_heads + h) * c.dim_v + r)] =
              static_cast<float>(mat_vec(w_uv, h, c.dim_v, r, ckv));
        }
      }
    }
    // Absorbed query: q_abs[h] = W_UK[h]^T q_nope[h].
    for (int64_t i = 0; i < c.n_tokens; ++i) {
      for (int64_t h = 0; h < c.n_heads; ++h) {
        const float* qn = q_nope.data() + (i * c.n_heads + h) * c.nope;
        float* qh = q.data() + (i * c.n_heads + h) * (c.nope + c.rope);
        std::copy_n(qn, c.nope, qh);
        std::copy_n(d.q_pe.data() + (i * c.n_heads + h) * c.rope, c.rope, qh + c.nope);
        for (int64_t j = 0; j < c.rank; ++j) {
          double s = 0.0;
          for (int64_t r = 0; r < c.nope; ++r) {
            s += double{w_uk[static_cast<size_t>((h * c.nope + r) * c.rank + j)]} * qn[r];
          }
          d.q_abs[static_cast<size_t>((i * c.n_heads + h) * c.rank + j)] = static_cast<float>(s);
        }
      }
    }
    const std::vector<double> want = NaiveAttention(expanded, q, k, v);
    std::vector<float> latent_out(d.OutSize());
    ASSERT_TRUE(dsinfer::MlaAttentionAbsorbed(d.q_abs, d.q_pe, d.Cache(DType::kF32), d.paged.table,
                                              d.Params(), latent_out)
                    .ok());
    // The two forms are equal in exact arithmetic; they differ by the float roundings of
    // q_abs, of the expanded K/V and of out_latent (each 2^-24 relative), which the sums of
    // <= 64 terms and the softmax amplify by < 100: 1e-4 of max|V| leaves margin, while a
    // wrong mask, block or head moves outputs by O(max|V| / length) >= 1e-2 of it.
    const double tol = 1e-4 * MaxAbs(v);
    for (int64_t i = 0; i < c.n_tokens; ++i) {
      for (int64_t h = 0; h < c.n_heads; ++h) {
        const float* ol = latent_out.data() + (i * c.n_heads + h) * c.rank;
        for (int64_t r = 0; r < c.dim_v; ++r) {
          ASSERT_NEAR(mat_vec(w_uv, h, c.dim_v, r, ol),
                      want[static_cast<size_t>((i * c.n_heads + h) * c.dim_v + r)], tol)
              << "token " << i << " head " << h << " dim " << r;
        }
      }
    }
  }
}

// Fast vs reference. Error budget of one output row (u = 2^-24), first order:
//   scores: q * scale rounded, then a float dot of dim_k terms: |ds| <= (dim_k + 1) u S with
//     S = max_t scale * sum_e |q_e k_te|; shifting all scores by <= ds moves a softmax-weighted
//     mean by <= 2 ds max|v|;
//   exp (<= 2 u relative per weight), float running sums and rescales over n_vis positions
//     (<= (n_vis + n_blocks) u relative on both numerator and denominator).
// So |fast - ref| <= (2 (dim_k + 1) S + 2 n_vis + 16) u max|v|; the test allows twice that.
double FastTolerance(int64_t dim_k, double s_abs, int64_t n_vis, double max_v) {
  return 2.0 * (2.0 * double(dim_k + 1) * s_abs + 2.0 * double(n_vis) + 16.0) * kUnit * max_v;
}

// Without a split the pool changes the tiling, never the arithmetic of a row: bit-identical to
// the inline run. Sequences from 512 positions may be split between threads (split-K), which
// folds the ranges' states and so rounds differently; the callers then check the reference
// bound, and that the same pool gives the same bits again.
void ExpectSameAsInlineOrSplit(const std::vector<float>& threaded,
                               const std::vector<float>& inline_out, int64_t length) {
  if (length < 512) {
    EXPECT_EQ(threaded, inline_out);
  }
}

// |got - want| within tol[row] for every value of each query row (token, head) of `dim`.
void ExpectWithinRowBounds(const std::vector<float>& got, const std::vector<float>& want,
                           const std::vector<double>& tol, int64_t dim, int64_t n_heads) {
  for (size_t at = 0; at < got.size(); ++at) {
    const size_t row = at / static_cast<size_t>(dim);
    ASSERT_NEAR(got[at], want[at], tol[row]) << "token " << row / static_cast<size_t>(n_heads)
                                             << " head " << row % static_cast<size_t>(n_heads);
  }
}

class AttentionFastTest : public ::testing::TestWithParam<Isa> {};

TEST_P(AttentionFastTest, GqaMatchesReferenceInlineAndThreaded) {
  const Isa isa = GetParam();
  ThreadPool pool2(2);
  ThreadPool pool3(3);
  ThreadPool pool8(8);
  uint32_t seed = 900;
  for (const GqaCase& c : GqaCases()) {
    for (DType dtype : {DType::kF32, DType::kF16}) {
      SCOPED_TRACE(Describe(c) + " " + std::string(DTypeName(dtype)));
      const GqaData d = MakeGqa(c, seed += 10);
      const PagedKvCache cache = d.Cache(dtype);
      std::vector<float> want(d.OutSize());
      ASSERT_TRUE(dsinfer::AttentionPaged(d.q, cache, d.paged_k.table, d.Params(), want).ok());
      const std::vector<float> k = dtype == DType::kF16 ? RoundThroughF16(d.k) : d.k;
      const std::vector<float> v = dtype == DType::kF16 ? RoundThroughF16(d.v) : d.v;
      const int64_t group = c.n_heads / c.n_kv_heads;
      std::vector<double> tol(static_cast<size_t>(c.n_tokens * c.n_heads));  // per query row
      for (int64_t i = 0; i < c.n_tokens; ++i) {
        for (int64_t h = 0; h < c.n_heads; ++h) {
          const float* qh = d.q.data() + (i * c.n_heads + h) * c.head_dim_k;
          double s_abs = 0.0;
          for (int64_t t = 0; t <= c.n_past + i; ++t) {
            double s = 0.0;
            for (int64_t e = 0; e < c.head_dim_k; ++e) {
              s += std::fabs(
                  double{qh[e]} *
                  k[static_cast<size_t>((t * c.n_kv_heads + h / group) * c.head_dim_k + e)]);
            }
            s_abs = std::max(s_abs, c.scale * s);
          }
          tol[static_cast<size_t>(i * c.n_heads + h)] =
              FastTolerance(c.head_dim_k, s_abs, c.n_past + i + 1, MaxAbs(v));
        }
      }
      const auto expect_near = [&](const std::vector<float>& got) {
        ExpectWithinRowBounds(got, want, tol, c.head_dim_v, c.n_heads);
      };
      std::vector<float> inline_out(d.OutSize());
      ASSERT_TRUE(
          AttentionPaged(d.q, cache, d.paged_k.table, d.Params(), inline_out, nullptr, isa).ok());
      expect_near(inline_out);
      for (ThreadPool* pool : {&pool2, &pool3, &pool8}) {
        SCOPED_TRACE(std::to_string(pool->num_threads()) + " threads");
        std::vector<float> threaded(d.OutSize());
        ASSERT_TRUE(
            AttentionPaged(d.q, cache, d.paged_k.table, d.Params(), threaded, pool, isa).ok());
        ExpectSameAsInlineOrSplit(threaded, inline_out, d.length);
        expect_near(threaded);
        std::vector<float> again(d.OutSize());
        ASSERT_TRUE(AttentionPaged(d.q, cache, d.paged_k.table, d.Params(), again, pool, isa).ok());
        ASSERT_EQ(again, threaded);
      }
    }
  }
}

TEST_P(AttentionFastTest, MlaMatchesReferenceInlineAndThreaded) {
  const Isa isa = GetParam();
  ThreadPool pool2(2);
  ThreadPool pool5(5);
  // Ranks and rope widths that leave SIMD tails, V2-Lite's 512 + 64 (shortened), and few heads
  // with many tokens (units then hold several query tokens).
  const std::vector<MlaCase> cases = {{3, 5, 40, 8, 0, 0, 13, 7, 0.3f},
                                      {16, 16, 512, 64, 0, 0, 50, 1, 0.1147f},
                                      {1, 3, 24, 12, 0, 0, 4, 3, 0.25f},
                                      {16, 20, 72, 9, 0, 0, 17, 20, 0.2f},
                                      {3, 2, 40, 8, 0, 0, 5, 24, 0.3f},
                                      // Long enough to split: a decode, and a prefill
                                      // (never split: its rows fill the threads).
                                      {16, 16, 40, 8, 0, 0, 2100, 1, 0.2f},
                                      {16, 4, 24, 8, 0, 0, 500, 30, 0.3f}};
  uint32_t seed = 1300;
  for (const MlaCase& c : cases) {
    for (DType dtype : {DType::kF32, DType::kF16}) {
      SCOPED_TRACE("mla bs " + std::to_string(c.block_size) + " rank " + std::to_string(c.rank) +
                   " " + std::string(DTypeName(dtype)));
      const MlaData d = MakeMla(c, seed += 10);
      const PagedLatentCache cache = d.Cache(dtype);
      std::vector<float> want(d.OutSize());
      ASSERT_TRUE(
          dsinfer::MlaAttentionAbsorbed(d.q_abs, d.q_pe, cache, d.paged.table, d.Params(), want)
              .ok());
      const std::vector<float> lat = dtype == DType::kF16 ? RoundThroughF16(d.latent) : d.latent;
      const int64_t row = c.rank + c.rope;
      std::vector<double> tol(static_cast<size_t>(c.n_tokens * c.n_heads));  // per query row
      for (int64_t i = 0; i < c.n_tokens; ++i) {
        for (int64_t h = 0; h < c.n_heads; ++h) {
          const size_t qi = static_cast<size_t>(i * c.n_heads + h);
          double s_abs = 0.0;
          for (int64_t t = 0; t <= c.n_past + i; ++t) {
            double s = 0.0;
            for (int64_t e = 0; e < row; ++e) {
              const float qe =
                  e < c.rank ? d.q_abs[qi * c.rank + e] : d.q_pe[qi * c.rope + (e - c.rank)];
              s += std::fabs(double{qe} * lat[static_cast<size_t>(t * row + e)]);
            }
            s_abs = std::max(s_abs, c.scale * s);
          }
          tol[qi] = FastTolerance(row, s_abs, c.n_past + i + 1, MaxAbs(lat));
        }
      }
      const auto expect_near = [&](const std::vector<float>& got) {
        ExpectWithinRowBounds(got, want, tol, c.rank, c.n_heads);
      };
      std::vector<float> got(d.OutSize());
      ASSERT_TRUE(
          MlaAttentionAbsorbed(d.q_abs, d.q_pe, cache, d.paged.table, d.Params(), got, nullptr, isa)
              .ok());
      expect_near(got);
      for (ThreadPool* pool : {&pool2, &pool5}) {
        SCOPED_TRACE(std::to_string(pool->num_threads()) + " threads");
        std::vector<float> threaded(d.OutSize());
        ASSERT_TRUE(MlaAttentionAbsorbed(d.q_abs, d.q_pe, cache, d.paged.table, d.Params(),
                                         threaded, pool, isa)
                        .ok());
        ExpectSameAsInlineOrSplit(threaded, got, d.length);
        expect_near(threaded);
        std::vector<float> again(d.OutSize());
        ASSERT_TRUE(MlaAttentionAbsorbed(d.q_abs, d.q_pe, cache, d.paged.table, d.Params(), again,
                                         pool, isa)
                        .ok());
        ASSERT_EQ(again, threaded);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryLevelOfThisCpu, AttentionFastTest,
                         ::testing::ValuesIn(MachineLevels()), LevelName);

// Runs the reference and the fast op on the same arguments and expects both to reject them
// with InvalidArgument mentioning `needle`.
void ExpectBothReject(const GqaData& d, std::span<const int32_t> table, const AttentionParams& p,
                      std::span<const float> q, const std::string& needle) {
  std::vector<float> out(static_cast<size_t>(std::max<int64_t>(0, p.n_tokens * p.n_heads)) *
                         static_cast<size_t>(d.c.head_dim_v));
  const Status ref = dsinfer::AttentionPaged(q, d.Cache(DType::kF32), table, p, out);
  const Status fast = AttentionPaged(q, d.Cache(DType::kF32), table, p, out, nullptr);
  for (const Status& s : {ref, fast}) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find(needle), std::string_view::npos) << s.ToString();
  }
}

TEST(AttentionArgsTest, BadInputsAreInvalidArgument) {
  const GqaCase c{4, 4, 2, 8, 8, 9, 2, 0.3f};  // length 11: 3 blocks of 4
  const GqaData d = MakeGqa(c, 77);
  const int64_t n_blocks = 7;  // Page() allocates 2 * 3 + 1
  std::vector<int32_t> table = d.paged_k.table;
  table[1] = static_cast<int32_t>(n_blocks);
  ExpectBothReject(d, table, d.Params(), d.q, "block_table[1] = 7");
  table[1] = -1;
  ExpectBothReject(d, table, d.Params(), d.q, "block_table[1] = -1");
  const std::vector<int32_t> short_table(d.paged_k.table.begin(), d.paged_k.table.begin() + 2);
  ExpectBothReject(d, short_table, d.Params(), d.q, "needs 3");
  AttentionParams three_heads = d.Params();
  three_heads.n_heads = 3;
  const std::vector<float> q3(static_cast<size_t>(c.n_tokens * 3 * c.head_dim_k));
  ExpectBothReject(d, d.paged_k.table, three_heads, q3, "n_heads 3 is not a multiple");
  const std::vector<float> q_short(d.q.begin(), d.q.end() - 1);
  ExpectBothReject(d, d.paged_k.table, d.Params(), q_short, "q of 63 floats");
  AttentionParams negative = d.Params();
  negative.n_past = -1;
  ExpectBothReject(d, d.paged_k.table, negative, d.q, "n_past = -1");

  // Table entries past the length are never read: a table allocated ahead may hold anything.
  std::vector<int32_t> long_table = d.paged_k.table;
  long_table.push_back(-5);
  std::vector<float> out(d.OutSize());
  EXPECT_TRUE(AttentionPaged(d.q, d.Cache(DType::kF32), long_table, d.Params(), out, nullptr).ok());

  // An MLA pool that is not whole blocks.
  const MlaData m = MakeMla({4, 2, 8, 4, 0, 0, 3, 1, 0.5f}, 78);
  PagedLatentCache latent = m.Cache(DType::kF32);
  latent.pool = latent.pool.first(latent.pool.size() - 4);
  std::vector<float> out_latent(m.OutSize());
  const Status s =
      MlaAttentionAbsorbed(m.q_abs, m.q_pe, latent, m.paged.table, m.Params(), out_latent, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("not whole blocks"), std::string_view::npos) << s.ToString();

  // A level this CPU cannot run is refused, not run.
  if (BestIsa(GetCpuFeatures()) < Isa::kAmx) {
    const Status amx = AttentionPaged(d.q, d.Cache(DType::kF32), d.paged_k.table, d.Params(), out,
                                      nullptr, Isa::kAmx);
    EXPECT_EQ(amx.code(), StatusCode::kInvalidArgument) << amx.ToString();
  }
}

}  // namespace
}  // namespace dsinfer::kernels
