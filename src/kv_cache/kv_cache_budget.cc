// KV memory budget arithmetic with overflow checks.
#include "kv_cache/kv_cache_budget.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>

namespace dsinfer {
namespace {

StatusOr<int64_t> CheckedProduct(std::initializer_list<int64_t> factors) {
  int64_t product = 1;
  for (const int64_t f : factors) {
    if (f <= 0)
      return InvalidArgumentError("KV cache size factor must be positive, got " +
                                  std::to_string(f));
    if (__builtin_mul_overflow(product, f, &product)) {
      return OutOfRangeError("KV cache bytes per token overflow int64");
    }
  }
  return product;
}

}  // namespace

StatusOr<int64_t> KvBytesPerTokenMha(int64_t num_layers, int64_t num_kv_heads, int64_t head_dim,
                                     int64_t dtype_bytes) {
  return CheckedProduct({num_layers, 2, num_kv_heads, head_dim, dtype_bytes});
}

StatusOr<int64_t> KvBytesPerTokenMla(int64_t num_layers, int64_t kv_lora_rank,
                                     int64_t qk_rope_head_dim, int64_t dtype_bytes) {
  if (kv_lora_rank <= 0 || qk_rope_head_dim < 0) {
    return InvalidArgumentError("MLA kv_lora_rank must be positive and qk_rope_head_dim >= 0");
  }
  return CheckedProduct({num_layers, kv_lora_rank + qk_rope_head_dim, dtype_bytes});
}

StatusOr<int32_t> NumBlocksForBudget(int64_t budget_bytes, int64_t bytes_per_token,
                                     int32_t block_size) {
  if (budget_bytes <= 0 || bytes_per_token <= 0 || block_size <= 0) {
    return InvalidArgumentError("KV budget, bytes per token and block size must be positive");
  }
  int64_t bytes_per_block = 0;
  if (__builtin_mul_overflow(bytes_per_token, int64_t{block_size}, &bytes_per_block)) {
    return OutOfRangeError("KV bytes per block overflow int64");
  }
  const int64_t blocks = budget_bytes / bytes_per_block;
  if (blocks == 0) {
    return ResourceExhaustedError("KV cache budget of " + std::to_string(budget_bytes) +
                                  " bytes is less than one block of " +
                                  std::to_string(bytes_per_block) + " bytes");
  }
  return static_cast<int32_t>(std::min<int64_t>(blocks, std::numeric_limits<int32_t>::max()));
}

}  // namespace dsinfer
