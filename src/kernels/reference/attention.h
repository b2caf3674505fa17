// Causal attention over a paged KV cache, scalar reference: the oracle for kernels::
// AttentionPaged / MlaAttentionAbsorbed (kernels/attention.h). Two ops:
//
//   AttentionPaged        multi-head attention with grouped-query KV heads (MHA when
//                         n_kv_heads == n_heads, MQA when it is 1): Llama/Qwen2/MoE-16B layers
//   MlaAttentionAbsorbed  DeepSeek V2/V3 MLA in the weight-absorbed form (deepseek-models.md
//                         §3.9): scores against the compressed latent cache itself
//
// Paged layout. The cache is a pool of blocks of `block_size` token slots; a sequence owns the
// blocks its block table names, in order, so position p lives in block block_table[p /
// block_size], slot p % block_size. Only the first ceil(length / block_size) table entries are
// read (a table may be allocated ahead); slots past the length are never read.
//
//   GQA  k_pool [n_blocks, block_size, n_kv_heads, head_dim_k]
//        v_pool [n_blocks, block_size, n_kv_heads, head_dim_v]
//   MLA  pool   [n_blocks, block_size, kv_lora_rank + qk_rope_head_dim]: per token the
//        normalised c_kv, then the rotated k_pe (llama.cpp's order: one contiguous row is
//        both the key [c_kv ; k_pe] and, by its prefix, the value c_kv)
//
// Elements are F32 or F16 (`dtype`, both pools alike); F16 halves the cache and is widened
// exactly on load. Queries and outputs are F32.
//
// Causality: the call's n_tokens queries are the positions n_past .. n_past + n_tokens - 1 of
// one sequence, and their own K/V are already in the cache. Query token i attends to
// positions 0 .. n_past + i inclusive; prefill (many tokens), chunked prefill (n_past > 0) and
// decode (one token) are the same call. Query head h reads KV head h / (n_heads / n_kv_heads).
//
// Precision: every score (scale * q.k), the softmax and the weighted sum of values are computed
// in double from the float (or F16-widened) inputs, and each output is rounded to float once,
// so the oracle adds no error of its own beyond that final rounding.
// Cost: one allocation per (token, head) sized to its visible length; meant for tests.
//
// Thread safety: pure functions over caller-owned memory.
#ifndef DSINFER_KERNELS_REFERENCE_ATTENTION_H_
#define DSINFER_KERNELS_REFERENCE_ATTENTION_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/status.h"
#include "tensor/dtype.h"

namespace dsinfer {

// A read-only view of one layer's GQA KV pools (layout above). n_blocks is implied by the pool
// sizes, which must agree.
struct PagedKvCache {
  DType dtype = DType::kF32;  // kF32 or kF16
  int64_t block_size = 16;    // token slots per block, >= 1
  int64_t n_kv_heads = 1;
  int64_t head_dim_k = 0;
  int64_t head_dim_v = 0;
  std::span<const std::byte> k_pool;  // [n_blocks, block_size, n_kv_heads, head_dim_k]
  std::span<const std::byte> v_pool;  // [n_blocks, block_size, n_kv_heads, head_dim_v]
};

// A read-only view of one layer's MLA latent pool (layout above).
struct PagedLatentCache {
  DType dtype = DType::kF32;  // kF32 or kF16
  int64_t block_size = 16;    // token slots per block, >= 1
  int64_t kv_lora_rank = 0;
  int64_t qk_rope_head_dim = 0;
  std::span<const std::byte> pool;  // [n_blocks, block_size, kv_lora_rank + qk_rope_head_dim]
};

// What one call computes, beyond the tensors.
struct AttentionParams {
  int64_t n_tokens = 0;  // query tokens (1 for decode)
  int64_t n_heads = 0;   // query heads
  int64_t n_past = 0;    // tokens cached before the first query token
  // Multiplies q.k before the softmax: head_dim_k^-1/2 for GQA; for MLA MlaSoftmaxScale()
  // (reference/rope.h: qk_head_dim = qk_nope + qk_rope, times YaRN's mscale^2).
  float scale = 1.0f;
};

// out = softmax(scale * q K^T + causal mask) V per query head, reading the head's KV head.
//   q    [n_tokens, n_heads, head_dim_k]
//   out  [n_tokens, n_heads, head_dim_v]
// InvalidArgument naming the value when: a size disagrees, n_heads is not a multiple of
// n_kv_heads, the dtype is not F32/F16, the table is shorter than the length needs, or a block
// id it needs is outside the pool.
Status AttentionPaged(std::span<const float> q, const PagedKvCache& kv,
                      std::span<const int32_t> block_table, const AttentionParams& params,
                      std::span<float> out);

// Absorbed MLA: per token i, head h and visible position t,
//   s_t = scale * (q_absorbed[i, h] . c_kv_t + q_pe[i, h] . k_pe_t)
//   out_latent[i, h] = sum_t softmax(s)_t * c_kv_t
// The caller has multiplied q_nope by W_UK (q_absorbed) and multiplies out_latent by W_UV.
//   q_absorbed  [n_tokens, n_heads, kv_lora_rank]
//   q_pe        [n_tokens, n_heads, qk_rope_head_dim] (rotated)
//   out_latent  [n_tokens, n_heads, kv_lora_rank]
// InvalidArgument as AttentionPaged.
Status MlaAttentionAbsorbed(std::span<const float> q_absorbed, std::span<const float> q_pe,
                            const PagedLatentCache& latent, std::span<const int32_t> block_table,
                            const AttentionParams& params, std::span<float> out_latent);

// The argument checks of the two ops above, shared with the fast bodies so that both reject
// exactly the same inputs with the same messages.
Status CheckAttentionArgs(size_t q_size, const PagedKvCache& kv,
                          std::span<const int32_t> block_table, const AttentionParams& params,
                          size_t out_size);
Status CheckMlaArgs(size_t q_absorbed_size, size_t q_pe_size, const PagedLatentCache& latent,
                    std::span<const int32_t> block_table, const AttentionParams& params,
                    size_t out_size);

}  // namespace dsinfer

#endif  // DSINFER_KERNELS_REFERENCE_ATTENTION_H_
