#include "kernels/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "base/check.h"
#include "base/scratch_floats.h"
#include "quant/half.h"

#if DSINFER_KERNELS_X86
#include "kernels/x86/avx2/attention_simd.h"
#include "kernels/x86/avx512/attention_simd.h"
#endif

namespace dsinfer::kernels {
namespace {

// Query rows per unit: 16 rows of q (MLA: 576 floats each) and their acc stay in L1/L2 while
// the unit streams a block of keys and values past them.
constexpr int64_t kMaxTileRows = 16;

// The inner loops of one Isa; contracts in x86/avx2/attention_simd.h.
template <typename T>
using ScoresFn = void (*)(const float* q, int64_t n_rows, int64_t dim, const T* k, int64_t k_stride,
                          int64_t n_k, const T* next_k, float* s, int64_t s_stride);
template <typename T>
using AccumulateFn = void (*)(const float* p, int64_t p_stride, int64_t n_rows, const T* v,
                              int64_t v_stride, int64_t n_v, const T* next_v, int64_t dim,
                              float* acc);

struct AttentionBodies {
  ScoresFn<float> scores_f32;
  ScoresFn<uint16_t> scores_f16;
  AccumulateFn<float> accumulate_f32;
  AccumulateFn<uint16_t> accumulate_f16;
  void (*block_softmax)(float* s, int64_t s_stride, int64_t n_rows, int64_t rows_per_token,
                        int64_t first_visible, int64_t n_k, float* max, float* sum, float* acc,
                        int64_t dim_v);
};

float Widen(float x) { return x; }
float Widen(uint16_t x) { return Fp16ToFp32(x); }

// The reference bodies ask for nothing ahead (next_k, next_v).
template <typename T>
void ScalarScores(const float* q, int64_t n_rows, int64_t dim, const T* k, int64_t k_stride,
                  int64_t n_k, const T* /*next_k*/, float* s, int64_t s_stride) {
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t t = 0; t < n_k; ++t) {
      float dot = 0.0f;
      for (int64_t e = 0; e < dim; ++e) dot += q[r * dim + e] * Widen(k[t * k_stride + e]);
      s[r * s_stride + t] = dot;
    }
  }
}

template <typename T>
void ScalarAccumulate(const float* p, int64_t p_stride, int64_t n_rows, const T* v,
                      int64_t v_stride, int64_t n_v, const T* /*next_v*/, int64_t dim, float* acc) {
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t t = 0; t < n_v; ++t) {
      const float pr = p[r * p_stride + t];
      for (int64_t e = 0; e < dim; ++e) acc[r * dim + e] += pr * Widen(v[t * v_stride + e]);
    }
  }
}

void ScalarBlockSoftmax(float* s, int64_t s_stride, int64_t n_rows, int64_t rows_per_token,
                        int64_t first_visible, int64_t n_k, float* max, float* sum, float* acc,
                        int64_t dim_v) {
  for (int64_t r = 0; r < n_rows; ++r) {
    float* sr = s + r * s_stride;
    const int64_t valid = std::clamp(first_visible + r / rows_per_token, int64_t{0}, n_k);
    if (valid > 0) {
      const float block_max = *std::max_element(sr, sr + valid);
      if (block_max > max[r]) {
        if (max[r] != -std::numeric_limits<float>::infinity()) {  // rescale what is summed so far
          const float f = std::exp(max[r] - block_max);
          sum[r] *= f;
          for (int64_t e = 0; e < dim_v; ++e) acc[r * dim_v + e] *= f;
        }
        max[r] = block_max;
      }
      float exps = 0.0f;
      for (int64_t t = 0; t < valid; ++t) {
        sr[t] = std::exp(sr[t] - max[r]);
        exps += sr[t];
      }
      sum[r] += exps;
    }
    std::fill(sr + valid, sr + n_k, 0.0f);  // masked: weight exactly 0
  }
}

const AttentionBodies& BodiesFor(Isa isa) {
  static constexpr AttentionBodies kScalar = {ScalarScores<float>, ScalarScores<uint16_t>,
                                              ScalarAccumulate<float>, ScalarAccumulate<uint16_t>,
                                              ScalarBlockSoftmax};
#if DSINFER_KERNELS_X86
  static constexpr AttentionBodies kAvx2 = {
      avx2::AttentionScoresF32, avx2::AttentionScoresF16, avx2::AttentionAccumulateF32,
      avx2::AttentionAccumulateF16, avx2::AttentionBlockSoftmax};
  static constexpr AttentionBodies kAvx512 = {
      avx512::AttentionScoresF32, avx512::AttentionScoresF16, avx512::AttentionAccumulateF32,
      avx512::AttentionAccumulateF16, avx512::AttentionBlockSoftmax};
  if (isa >= Isa::kAvx512) return kAvx512;  // kAmx: no AMX attention bodies
  if (isa == Isa::kAvx2) return kAvx2;
#endif
  (void)isa;
  return kScalar;
}

ScoresFn<float> ScoresOf(const AttentionBodies& b, const float* /*type*/) { return b.scores_f32; }
ScoresFn<uint16_t> ScoresOf(const AttentionBodies& b, const uint16_t* /*type*/) {
  return b.scores_f16;
}
AccumulateFn<float> AccumulateOf(const AttentionBodies& b, const float* /*type*/) {
  return b.accumulate_f32;
}
AccumulateFn<uint16_t> AccumulateOf(const AttentionBodies& b, const uint16_t* /*type*/) {
  return b.accumulate_f16;
}

// One call's geometry, shared by the GQA and MLA fronts (MLA: one KV head whose key row is
// the whole latent row and whose value row is its c_kv prefix).
struct Problem {
  int64_t n_tokens = 0;
  int64_t n_heads = 0;
  int64_t n_past = 0;
  int64_t n_kv_heads = 1;
  int64_t group = 1;  // query heads per KV head
  float scale = 1.0f;
  // Query row (token, head) = [q_a row ; q_b row], dim_a + dim_b == dim_k.
  const float* q_a = nullptr;  // [n_tokens, n_heads, dim_a]
  int64_t dim_a = 0;
  const float* q_b = nullptr;  // [n_tokens, n_heads, dim_b], or null with dim_b 0
  int64_t dim_b = 0;
  int64_t dim_k = 0;
  int64_t dim_v = 0;
  const std::byte* k_pool = nullptr;
  const std::byte* v_pool = nullptr;
  int64_t k_slot_stride = 0;  // elements per token slot
  int64_t v_slot_stride = 0;
  int64_t k_head_stride = 0;  // elements between KV heads of a slot
  int64_t v_head_stride = 0;
  int64_t block_size = 1;
  std::span<const int32_t> table;
  float* out = nullptr;  // [n_tokens, n_heads, dim_v]
};

struct Tiling {
  int64_t head_tile = 1;   // query heads of one KV group per unit
  int64_t token_tile = 1;  // query tokens per unit
  int64_t n_head_tiles = 1;
  int64_t n_token_tiles = 1;
  // Split-K: each tile's positions cut into n_splits ranges of split_length (whole blocks), a
  // unit each; 1 = every unit walks all of its tile's positions.
  int64_t n_splits = 1;
  int64_t split_length = 0;
  int64_t tiles() const { return n_token_tiles * n_head_tiles; }  // per KV head
};

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The fewest positions a split walks: its fixed costs (its first block read cold, the running
// max found again, a fold of rows x dim_v floats) stay small beside 256 positions' scores and
// values (chosen so, not tuned: the host splits nothing).
constexpr int64_t kMinSplitLength = 256;
// Tiles of this many rows or more are not worth a split: on this project's 2-core host a
// V2-Lite decode over 4096 positions took 0.63 ms as one 16-row tile split in two, against
// 0.55 as two unsplit tiles of 8 rows (the fold itself took ~4 us of it).
constexpr int64_t kTileRowsWithoutSplit = 8;

// Big tiles read each KV block fewer times; enough units keep every thread busy (decode), and
// ~4 units per thread let round-robin even out the causal triangle (prefill). When the threads
// would leave tiles of few rows (a decode on many threads: one sequence's rows are few), the
// positions are split between units first (flash-decoding), so that each thread reads its
// share of the cache once for all of a tile's rows, rather than every thread reading the whole
// cache for one or two rows, or threads idling once tiles are single rows.
Tiling ChooseTiling(const Problem& pb, int64_t threads) {
  Tiling t;
  const int64_t pairs = pb.n_tokens * pb.n_kv_heads;
  const int64_t full_tile = std::min(pb.group, kMaxTileRows);
  const int64_t length = pb.n_past + pb.n_tokens;
  const int64_t unsplit_tile = CeilDiv(pb.group * pairs, threads);
  if (unsplit_tile < std::min(full_tile, kTileRowsWithoutSplit) && length >= 2 * kMinSplitLength) {
    const int64_t full_tiles = pairs * CeilDiv(pb.group, full_tile);
    const int64_t want = std::min(CeilDiv(threads, full_tiles), length / kMinSplitLength);
    t.split_length = CeilDiv(CeilDiv(length, want), pb.block_size) * pb.block_size;
    t.n_splits = CeilDiv(length, t.split_length);
  }
  t.head_tile = std::clamp(CeilDiv(pb.group * pairs * t.n_splits, threads), int64_t{1}, full_tile);
  t.n_head_tiles = CeilDiv(pb.group, t.head_tile);
  const int64_t for_balance = pb.n_tokens * pb.n_kv_heads * t.n_head_tiles / (4 * threads);
  t.token_tile =
      std::clamp(std::min(kMaxTileRows / t.head_tile, for_balance), int64_t{1}, pb.n_tokens);
  t.n_token_tiles = CeilDiv(pb.n_tokens, t.token_tile);
  return t;
}

// The online softmax's state of some query rows: running max, sum of exp(s - max), and the
// unnormalised output [rows, dim_v]. An empty state (max -inf, sum and acc 0) has seen nothing.
struct SoftmaxState {
  float* max;
  float* sum;
  float* acc;

  // A state laid out [max | sum | acc] in the StateFloats(rows, dim_v) floats at p.
  static SoftmaxState At(float* p, int64_t rows) { return {p, p + rows, p + 2 * rows}; }
  static int64_t StateFloats(int64_t rows, int64_t dim_v) { return rows * (dim_v + 2); }

  void Clear(int64_t rows, int64_t dim_v) const {
    std::fill_n(max, rows, -std::numeric_limits<float>::infinity());
    std::fill_n(sum, rows, 0.0f);
    std::fill_n(acc, rows * dim_v, 0.0f);
  }
};

// Folds one split's state into the rows' result so far: both sums and outputs rescaled to the
// larger max. A row that saw nothing in the split is left alone; a row's first split is copied.
void FoldState(const SoftmaxState& split, int64_t rows, int64_t dim_v, const SoftmaxState& into) {
  constexpr float kNone = -std::numeric_limits<float>::infinity();
  for (int64_t r = 0; r < rows; ++r) {
    const float* sa = split.acc + r * dim_v;
    float* ia = into.acc + r * dim_v;
    if (split.max[r] == kNone) continue;
    if (into.max[r] == kNone) {
      into.max[r] = split.max[r];
      into.sum[r] = split.sum[r];
      std::copy_n(sa, dim_v, ia);
      continue;
    }
    const float m = std::max(into.max[r], split.max[r]);
    const float fi = std::exp(into.max[r] - m);
    const float fs = std::exp(split.max[r] - m);
    into.max[r] = m;
    into.sum[r] = into.sum[r] * fi + split.sum[r] * fs;
    for (int64_t e = 0; e < dim_v; ++e) ia[e] = ia[e] * fi + sa[e] * fs;
  }
}

// Per-thread buffers, allocated once per call: the unit's query rows, block scores and
// softmax state, and for a split call the state its folds build.
struct Scratch {
  Scratch(int64_t rows, const Problem& pb, bool split)
      : q(static_cast<size_t>(rows * pb.dim_k)),
        s(static_cast<size_t>(rows * pb.block_size)),
        rows_(rows),
        per_state_(SoftmaxState::StateFloats(rows, pb.dim_v)),
        states_(static_cast<size_t>((split ? 2 : 1) * per_state_)) {}
  SoftmaxState State() { return SoftmaxState::At(states_.data(), rows_); }
  SoftmaxState Folded() {
    DSI_DCHECK(std::ssize(states_) == 2 * per_state_);  // a split call's
    return SoftmaxState::At(states_.data() + per_state_, rows_);
  }
  std::vector<float> q;  // [rows, dim_k], pre-scaled
  std::vector<float> s;  // [rows, block_size]: scores, then weights

 private:
  int64_t rows_;
  int64_t per_state_;
  std::vector<float> states_;  // State(), then for a split call Folded()
};

// The states of a split call's units, [tiles][splits][rows x (dim_v + 2)], and per tile a count
// of its finished splits: the unit that finishes a tile's last split folds them all, in order,
// so the result does not depend on which thread ran which split.
class SplitStates {
 public:
  SplitStates(int64_t n_tiles, int64_t n_splits, int64_t rows, int64_t dim_v)
      : rows_(rows),
        per_unit_(SoftmaxState::StateFloats(rows, dim_v)),
        n_splits_(n_splits),
        states_(static_cast<size_t>(n_tiles * n_splits * per_unit_)),
        done_(static_cast<size_t>(n_tiles)) {}

  SoftmaxState At(int64_t tile, int64_t split) {
    return SoftmaxState::At(states_.data() + (tile * n_splits_ + split) * per_unit_, rows_);
  }
  // True for the caller that finishes `tile`'s last split; it then sees every split's state.
  bool FinishSplit(int64_t tile) {
    return done_[static_cast<size_t>(tile)].fetch_add(1, std::memory_order_acq_rel) + 1 ==
           n_splits_;
  }

 private:
  int64_t rows_;
  int64_t per_unit_;
  int64_t n_splits_;
  ScratchFloats states_;
  std::vector<std::atomic<int64_t>> done_;
};

// One unit's rows: tile `tile` of the call (KV head, token tile, head tile).
struct UnitRows {
  int64_t t0, t1;  // query tokens [t0, t1)
  int64_t kv_head;
  int64_t h0, nh;                                  // query heads [h0, h0 + nh)
  int64_t rows() const { return (t1 - t0) * nh; }  // row r: token t0 + r / nh, head h0 + r % nh
  int64_t QueryIndex(const Problem& pb, int64_t r) const {
    return (t0 + r / nh) * pb.n_heads + h0 + r % nh;
  }
};

UnitRows RowsOf(const Problem& pb, const Tiling& tiling, int64_t tile) {
  const int64_t per_token_tile = pb.n_kv_heads * tiling.n_head_tiles;
  UnitRows u{};
  u.t0 = tile / per_token_tile * tiling.token_tile;
  u.t1 = std::min(pb.n_tokens, u.t0 + tiling.token_tile);
  u.kv_head = tile % per_token_tile / tiling.n_head_tiles;
  u.h0 = u.kv_head * pb.group + tile % tiling.n_head_tiles * tiling.head_tile;
  u.nh = std::min((u.kv_head + 1) * pb.group, u.h0 + tiling.head_tile) - u.h0;
  return u;
}

// Online softmax of a unit's rows (their pre-scaled queries in sc.q) over the blocks of
// positions [begin, end) that they can see, into `state` (cleared first).
template <typename T>
void WalkPositions(const Problem& pb, const AttentionBodies& bodies, const UnitRows& u,
                   int64_t begin, int64_t end, Scratch& sc, const SoftmaxState& state) {
  const int64_t rows = u.rows();
  state.Clear(rows, pb.dim_v);
  const T* k_base = reinterpret_cast<const T*>(pb.k_pool) + u.kv_head * pb.k_head_stride;
  const T* v_base = reinterpret_cast<const T*>(pb.v_pool) + u.kv_head * pb.v_head_stride;
  const ScoresFn<T> scores = ScoresOf(bodies, k_base);
  const AccumulateFn<T> accumulate = AccumulateOf(bodies, v_base);
  // MLA: a value row is its key row's prefix, which the scores have already asked for.
  const bool values_in_keys = v_base == k_base && pb.v_slot_stride == pb.k_slot_stride;
  const int64_t bs = pb.block_size;
  const int64_t length = std::min(end, pb.n_past + u.t1);  // what the unit's last token sees
  for (int64_t start = begin; start < length; start += bs) {
    const int64_t n_k = std::min(bs, length - start);
    const int64_t slot0 = int64_t{pb.table[static_cast<size_t>(start / bs)]} * bs;
    // The next block, which the bodies ask for while they compute on this one. Its rows past
    // the sequence's end are asked for too: they are in the pool (blocks are whole).
    const T* next_k = nullptr;
    const T* next_v = nullptr;
    if (start + bs < length) {
      const int64_t next0 = int64_t{pb.table[static_cast<size_t>(start / bs + 1)]} * bs;
      next_k = k_base + next0 * pb.k_slot_stride;
      next_v = values_in_keys ? nullptr : v_base + next0 * pb.v_slot_stride;
    }
    scores(sc.q.data(), rows, pb.dim_k, k_base + slot0 * pb.k_slot_stride, pb.k_slot_stride, n_k,
           next_k, sc.s.data(), bs);
    // Row r's causal limit in this block: pb.n_past + t0 + r / nh + 1 - start keys.
    bodies.block_softmax(sc.s.data(), bs, rows, u.nh, pb.n_past + u.t0 + 1 - start, n_k, state.max,
                         state.sum, state.acc, pb.dim_v);
    accumulate(sc.s.data(), bs, rows, v_base + slot0 * pb.v_slot_stride, pb.v_slot_stride, n_k,
               next_v, pb.dim_v, state.acc);
  }
}

void ScaleQueries(const Problem& pb, const UnitRows& u, float* q) {
  for (int64_t r = 0; r < u.rows(); ++r) {
    const int64_t qi = u.QueryIndex(pb, r);
    float* qr = q + r * pb.dim_k;
    for (int64_t e = 0; e < pb.dim_a; ++e) qr[e] = pb.scale * pb.q_a[qi * pb.dim_a + e];
    for (int64_t e = 0; e < pb.dim_b; ++e) qr[pb.dim_a + e] = pb.scale * pb.q_b[qi * pb.dim_b + e];
  }
}

void WriteRows(const Problem& pb, const UnitRows& u, const SoftmaxState& folded) {
  for (int64_t r = 0; r < u.rows(); ++r) {
    const float l = folded.sum[r];  // >= 1: the max contributes exp(0)
    const float* ar = folded.acc + r * pb.dim_v;
    float* o = pb.out + u.QueryIndex(pb, r) * pb.dim_v;
    for (int64_t e = 0; e < pb.dim_v; ++e) o[e] = ar[e] / l;
  }
}

// Unit `unit` of the call: a tile's rows over all their positions, or over one split of them,
// folding the tile's splits when it is the last of them to finish.
template <typename T>
void RunUnit(const Problem& pb, const AttentionBodies& bodies, const Tiling& tiling, int64_t unit,
             Scratch& sc, SplitStates* splits) {
  const int64_t tile = unit / tiling.n_splits;
  const UnitRows u = RowsOf(pb, tiling, tile);
  ScaleQueries(pb, u, sc.q.data());
  if (splits == nullptr) {
    WalkPositions<T>(pb, bodies, u, 0, pb.n_past + pb.n_tokens, sc, sc.State());
    WriteRows(pb, u, sc.State());
    return;
  }
  const int64_t split = unit % tiling.n_splits;
  const int64_t begin = split * tiling.split_length;
  WalkPositions<T>(pb, bodies, u, begin, begin + tiling.split_length, sc, splits->At(tile, split));
  if (!splits->FinishSplit(tile)) return;
  const SoftmaxState folded = sc.Folded();
  folded.Clear(u.rows(), pb.dim_v);
  for (int64_t i = 0; i < tiling.n_splits; ++i) {
    FoldState(splits->At(tile, i), u.rows(), pb.dim_v, folded);
  }
  WriteRows(pb, u, folded);
}

template <typename T>
void Run(const Problem& pb, const AttentionBodies& bodies, ThreadPool* pool) {
  const int64_t threads = pool != nullptr ? pool->num_threads() : 1;
  const Tiling tiling = ChooseTiling(pb, threads);
  const int64_t n_tiles = pb.n_kv_heads * tiling.tiles();
  const int64_t n_units = n_tiles * tiling.n_splits;
  const int64_t rows = tiling.token_tile * tiling.head_tile;
  const bool split = tiling.n_splits > 1;
  std::optional<SplitStates> states;
  if (split) states.emplace(n_tiles, tiling.n_splits, rows, pb.dim_v);
  SplitStates* splits = split ? &*states : nullptr;
  // Lane i runs units i, i + threads, ...: neighbouring units cost about the same.
  auto lanes = [&](int64_t begin, int64_t end, int /*thread*/) {
    if (begin >= n_units) return;
    Scratch scratch(rows, pb, split);
    for (int64_t lane = begin; lane < end; ++lane) {
      for (int64_t u = lane; u < n_units; u += threads) {
        RunUnit<T>(pb, bodies, tiling, u, scratch, splits);
      }
    }
  };
  if (pool != nullptr) {
    pool->ParallelFor(threads, lanes);
  } else {
    lanes(0, 1, 0);
  }
}

Status CheckRunnable(const char* op, Isa isa, std::span<const std::byte> pool, DType dtype) {
  const Isa best = BestIsa(GetCpuFeatures());
  if (isa > best) {
    return InvalidArgumentError(fmt::format("{}: isa {} is above this CPU's best level {}", op,
                                            IsaName(isa), IsaName(best)));
  }
  const size_t align = dtype == DType::kF16 ? alignof(uint16_t) : alignof(float);
  if (reinterpret_cast<uintptr_t>(pool.data()) % align != 0) {
    return InvalidArgumentError(
        fmt::format("{}: cache pool is not aligned to {} bytes", op, align));
  }
  return Status::Ok();
}

void Dispatch(const Problem& pb, DType dtype, Isa isa, ThreadPool* pool) {
  if (pb.n_tokens == 0) return;
  const AttentionBodies& bodies = BodiesFor(isa);
  if (dtype == DType::kF16) {
    Run<uint16_t>(pb, bodies, pool);
  } else {
    Run<float>(pb, bodies, pool);
  }
}

}  // namespace

Status AttentionPaged(std::span<const float> q, const PagedKvCache& kv,
                      std::span<const int32_t> block_table, const AttentionParams& params,
                      std::span<float> out, ThreadPool* pool, Isa isa) {
  DSI_RETURN_IF_ERROR(CheckAttentionArgs(q.size(), kv, block_table, params, out.size()));
  DSI_RETURN_IF_ERROR(CheckRunnable("attention", isa, kv.k_pool, kv.dtype));
  DSI_RETURN_IF_ERROR(CheckRunnable("attention", isa, kv.v_pool, kv.dtype));
  Problem pb;
  pb.n_tokens = params.n_tokens;
  pb.n_heads = params.n_heads;
  pb.n_past = params.n_past;
  pb.n_kv_heads = kv.n_kv_heads;
  pb.group = params.n_heads / kv.n_kv_heads;
  pb.scale = params.scale;
  pb.q_a = q.data();
  pb.dim_a = kv.head_dim_k;
  pb.dim_k = kv.head_dim_k;
  pb.dim_v = kv.head_dim_v;
  pb.k_pool = kv.k_pool.data();
  pb.v_pool = kv.v_pool.data();
  pb.k_slot_stride = kv.n_kv_heads * kv.head_dim_k;
  pb.v_slot_stride = kv.n_kv_heads * kv.head_dim_v;
  pb.k_head_stride = kv.head_dim_k;
  pb.v_head_stride = kv.head_dim_v;
  pb.block_size = kv.block_size;
  pb.table = block_table;
  pb.out = out.data();
  Dispatch(pb, kv.dtype, isa, pool);
  return Status::Ok();
}

Status MlaAttentionAbsorbed(std::span<const float> q_absorbed, std::span<const float> q_pe,
                            const PagedLatentCache& latent, std::span<const int32_t> block_table,
                            const AttentionParams& params, std::span<float> out_latent,
                            ThreadPool* pool, Isa isa) {
  DSI_RETURN_IF_ERROR(
      CheckMlaArgs(q_absorbed.size(), q_pe.size(), latent, block_table, params, out_latent.size()));
  DSI_RETURN_IF_ERROR(CheckRunnable("mla_attention", isa, latent.pool, latent.dtype));
  const int64_t row = latent.kv_lora_rank + latent.qk_rope_head_dim;  // [c_kv ; k_pe]
  Problem pb;
  pb.n_tokens = params.n_tokens;
  pb.n_heads = params.n_heads;
  pb.n_past = params.n_past;
  pb.n_kv_heads = 1;
  pb.group = params.n_heads;
  pb.scale = params.scale;
  pb.q_a = q_absorbed.data();
  pb.dim_a = latent.kv_lora_rank;
  pb.q_b = q_pe.data();
  pb.dim_b = latent.qk_rope_head_dim;
  pb.dim_k = row;
  pb.dim_v = latent.kv_lora_rank;
  pb.k_pool = latent.pool.data();
  pb.v_pool = latent.pool.data();
  pb.k_slot_stride = row;
  pb.v_slot_stride = row;
  pb.block_size = latent.block_size;
  pb.table = block_table;
  pb.out = out_latent.data();
  Dispatch(pb, latent.dtype, isa, pool);
  return Status::Ok();
}

}  // namespace dsinfer::kernels
