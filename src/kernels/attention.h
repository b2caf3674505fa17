// Fast causal attention over a paged KV cache: the same contracts, layouts and argument checks
// as the scalar reference in reference/attention.h (GQA AttentionPaged and absorbed-MLA
// MlaAttentionAbsorbed), computed in one pass over the cache blocks with an online softmax
// (flash-decoding): per query row a running max m, a running sum l and an unnormalised output
// acc; each block's scores are exponentiated against the new max and acc, l are rescaled by
// exp(m_old - m_new) when the max grows; out = acc / l at the end.
//
// Work split: a tile is (KV head, a tile of query tokens, a tile of that KV head's query
// heads), up to 16 query rows that walk the same key/value rows together, so a KV block is
// read once per tile rather than once per head (MLA: all heads share one latent row; GQA: the
// heads of a group share a KV head). A unit is a tile over all the positions its rows see;
// tiles shrink until every pool thread has a unit. When that would leave tiles of under 8 rows
// (of a group that has more) and the sequence is long (a decode on many threads: one
// sequence's rows are few), the positions are split first (split-K flash-decoding: ranges of
// at least 256 positions, whole blocks, a unit each; the last unit of a tile to finish folds
// the ranges' softmax states in order), so that one long sequence keeps every thread busy and
// each reads its share of the cache once for a full tile of rows. Units
// are dealt to threads round-robin, which balances the causal triangle of a prefill. MLA runs
// as MQA with key row [c_kv ; k_pe] (width kv_lora_rank + qk_rope_head_dim) and value row
// c_kv, its prefix.
//
// Inner loops (scores, each block's softmax step, value accumulation) come from a table of
// bodies per Isa: portable C++ at kScalar, x86/avx2/attention_simd.cc at kAvx2,
// x86/avx512/attention_simd.cc at kAvx512 and kAmx.
//
// Numerics: q is multiplied by `scale` in float first; scores are float dot products (FMA,
// one accumulator per score), the exp a polynomial of about 2 ulp, acc and l float. Against
// the double reference the error is bounded by the score dot error (~dim * 2^-24 *
// sum|scale q k|) carried through the softmax, plus the float sums over the visible positions;
// tests state the bound (a split's fold adds one rescale per range, fewer than the blocks').
// Without a split the result does not depend on the pool or the tiling: a row's arithmetic is
// the same in whichever tile it runs, and rows past their causal limit in a shared block only
// add exact zeros (p = 0 times finite cached values). A split changes a row's roundings (the
// ranges' states are computed apart and folded), so a long decode's result depends on the
// number of threads, within the bound; for a given pool it does not depend on which thread
// ran what. Sequences under 512 positions are never split.
// Cost: per call, one scratch allocation per pool thread (q tile, scores, state: ~16 x
// (dim_k + dim_v + block_size) floats; a split call twice the state), and for a split, the
// units' states (units x rows x (dim_v + 2) floats).
// Thread safety: pure over caller-owned memory; `pool` must not be in use by another
// ParallelFor.
// Not done yet: BF16 cache storage.
#ifndef DSINFER_KERNELS_ATTENTION_H_
#define DSINFER_KERNELS_ATTENTION_H_

#include <cstdint>
#include <span>

#include "base/status.h"
#include "kernels/kernel_table.h"
#include "kernels/reference/attention.h"
#include "platform/cpu_features.h"
#include "platform/thread_pool.h"

namespace dsinfer::kernels {

// See dsinfer::AttentionPaged. `pool` may be null (runs inline). `isa` picks the inner loops
// (default: the selected level, DSINFER_ISA applies); a level above the CPU's is
// InvalidArgument.
Status AttentionPaged(std::span<const float> q, const PagedKvCache& kv,
                      std::span<const int32_t> block_table, const AttentionParams& params,
                      std::span<float> out, ThreadPool* pool, Isa isa = Kernels().isa);

// See dsinfer::MlaAttentionAbsorbed; `pool` and `isa` as above.
Status MlaAttentionAbsorbed(std::span<const float> q_absorbed, std::span<const float> q_pe,
                            const PagedLatentCache& latent, std::span<const int32_t> block_table,
                            const AttentionParams& params, std::span<float> out_latent,
                            ThreadPool* pool, Isa isa = Kernels().isa);

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_ATTENTION_H_
