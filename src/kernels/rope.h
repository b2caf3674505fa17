// Fast rotary position embedding: ApplyRope / ApplyRopeBatch with the contracts and CHECKs of
// the reference in reference/rope.h (which stays the oracle; frequencies, YaRN factors and the
// pairings are defined there), running the bodies of a RopeTable: RopeKernels() (the level
// kernel_table.h selects) unless one is passed.
//
// Per call, and per token of a batch, cos/sin of the angles position * inv_freq[i] are computed
// once into a small table (in the layout the pairing's rotation wants) and every head of the
// token is then rotated with it:
//
//   kHalfSplit    x[i], x[i+h]  <-  x[i] c_i - x[i+h] s_i,  x[i+h] c_i + x[i] s_i
//   kInterleaved  x[j]          <-  x[j] C[j] + x[j^1] S[j],  C = [c0 c0 c1 c1 ..],
//                                                             S = [-s0 s0 -s1 s1 ..]
//
// Numerics: as the reference, angles are double(position) * double(inv_freq[i]); the SIMD
// levels reduce them mod pi/2 in double (exact to ~1e-16 rad for |angle| < 2^40) and evaluate
// Cephes' double sin/cos polynomials, then multiply by attention_factor in double and round to
// float once: each table entry is within 1 float ulp of the true value. The rotation is float
// (one rounded product and one FMA per value), so each rotated value is within about
// 4 * 2^-24 * attention_factor * (|u| + |w|) of the reference's exact-rounded one (bound and
// measurement in elementwise_simd_test). The scalar level rotates in double from the same float
// tables. On every level, half-split on the de-interleaved head equals interleaved, bit for bit
// (§3.5), as in the reference.
//
// Threading: ApplyRopeBatch(es) with a ThreadPool splits its (token, head) rows over it; each
// chunk recomputes the table once per token it touches.
//
// Thread safety: pure functions over caller-owned memory; the tables are immutable after their
// (thread-safe) construction. `pool` must not be in use by another ParallelFor.
#ifndef DSINFER_KERNELS_ROPE_H_
#define DSINFER_KERNELS_ROPE_H_

#include <cstdint>
#include <span>

#include "kernels/reference/rope.h"
#include "platform/cpu_features.h"
#include "platform/thread_pool.h"

namespace dsinfer::kernels {

struct RopeTable {
  Isa isa = Isa::kScalar;
  // cos_out[i] = cos(a_i) * attention_factor, sin_out[i] = sin(a_i) * attention_factor,
  // a_i = double(position) * double(inv_freq[i]), for i < n.
  void (*cos_sin)(const float* inv_freq, int64_t n, int64_t position, double attention_factor,
                  float* cos_out, float* sin_out) = nullptr;
  // Rotates the pairs (x[i], x[i + half]) by the tables of cos_sin (half = n).
  void (*rotate_half_split)(const float* cos_a, const float* sin_a, int64_t half,
                            float* x) = nullptr;
  // Rotates the pairs (x[2i], x[2i+1]) by the expanded tables C, S above (dims values each).
  void (*rotate_interleaved)(const float* cos2, const float* sin2, int64_t dims,
                             float* x) = nullptr;
};

// The table of Kernels().isa (DSINFER_ISA applies), chosen on first use.
const RopeTable& RopeKernels();

// The table of level `isa`, for tests and benchmarks; `isa` must not exceed
// BestIsa(GetCpuFeatures()) (checked).
const RopeTable& RopeKernelsFor(Isa isa);

// Call these two qualified (kernels::ApplyRope): RopePairing brings the reference overloads in
// by argument-dependent lookup, which makes an unqualified call with default arguments
// ambiguous.

// See the reference ApplyRope: rotates one head of `dims` = 2 * inv_freq.size() values.
void ApplyRope(RopePairing pairing, std::span<const float> inv_freq, int64_t position, float* x,
               int dims, double attention_factor = 1.0, const RopeTable& table = RopeKernels());

// See the reference ApplyRopeBatch: x is [positions.size(), n_heads, head_dim]. `pool` may be
// null (runs inline).
void ApplyRopeBatch(RopePairing pairing, std::span<const float> inv_freq,
                    std::span<const int64_t> positions, const RopeBatchLayout& layout,
                    std::span<float> x, double attention_factor = 1.0, ThreadPool* pool = nullptr,
                    const RopeTable& table = RopeKernels());

// One tensor of ApplyRopeBatches: x is [positions.size(), layout.n_heads, layout.head_dim].
struct RopeBatchTarget {
  RopeBatchLayout layout;
  std::span<float> x;
};

// ApplyRopeBatch on each target, the same tokens' queries and keys, in one split over `pool`:
// one hand-off to the threads where a call per target made one each (a decode step's are
// about a microsecond apiece, against a fraction of that for its rotations).
void ApplyRopeBatches(RopePairing pairing, std::span<const float> inv_freq,
                      std::span<const int64_t> positions, std::span<const RopeBatchTarget> targets,
                      double attention_factor = 1.0, ThreadPool* pool = nullptr,
                      const RopeTable& table = RopeKernels());

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_ROPE_H_
