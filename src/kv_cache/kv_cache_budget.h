// How many KV blocks fit in a memory budget.
//
// The caller states the bytes one token costs across all layers: for multi-head / grouped
// attention 2 (K and V) x num_kv_heads x head_dim x dtype size per layer; for MLA (DeepSeek-V2/V3)
// the compressed latent, (kv_lora_rank + qk_rope_head_dim) x dtype size per layer. Integer
// arithmetic with overflow checks; the block count is rounded down (a partial block is useless).
//
// Thread safety: pure functions.
#ifndef DSINFER_KV_CACHE_KV_CACHE_BUDGET_H_
#define DSINFER_KV_CACHE_KV_CACHE_BUDGET_H_

#include <cstdint>

#include "base/status.h"

namespace dsinfer {

// Bytes per token of a K+V cache: num_layers x 2 x num_kv_heads x head_dim x dtype_bytes.
StatusOr<int64_t> KvBytesPerTokenMha(int64_t num_layers, int64_t num_kv_heads, int64_t head_dim,
                                     int64_t dtype_bytes);

// Bytes per token of an MLA latent cache: num_layers x (kv_lora_rank + rope_dim) x dtype_bytes.
StatusOr<int64_t> KvBytesPerTokenMla(int64_t num_layers, int64_t kv_lora_rank,
                                     int64_t qk_rope_head_dim, int64_t dtype_bytes);

// floor(budget_bytes / (bytes_per_token x block_size)), capped at INT32_MAX. A budget below
// one block is ResourceExhausted; non-positive arguments are InvalidArgument.
StatusOr<int32_t> NumBlocksForBudget(int64_t budget_bytes, int64_t bytes_per_token,
                                     int32_t block_size);

}  // namespace dsinfer

#endif  // DSINFER_KV_CACHE_KV_CACHE_BUDGET_H_
