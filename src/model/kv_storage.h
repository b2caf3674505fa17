// KvStorage: the paged key/value memory of one model instance, every layer's pools in one
// allocation. kv_cache/ decides which block holds which tokens; this class only holds them.
//
//   standard attention  per layer k_pool, v_pool [n_blocks, block_size, n_kv_heads, head_dim]
//   MLA                 per layer one latent pool [n_blocks, block_size, kv_lora_rank + dr]
//                       (normalised c_kv, then the rotated k_pe: kernels/attention.h)
//
// Elements are F16 (default, half the memory, as llama.cpp) or F32. Position p of a sequence
// lives in block block_table[p / block_size], slot p % block_size.
//
// Thread safety: none; the engine thread owns it. Writes to distinct slots may run in parallel.
#ifndef DSINFER_MODEL_KV_STORAGE_H_
#define DSINFER_MODEL_KV_STORAGE_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/aligned_buffer.h"
#include "base/status.h"
#include "kernels/attention.h"
#include "model/model_config.h"
#include "tensor/dtype.h"

namespace dsinfer {

struct KvStorageOptions {
  int64_t n_blocks = 0;
  int64_t block_size = 16;
  DType dtype = DType::kF16;  // kF16 or kF32
};

class KvStorage {
 public:
  KvStorage() = default;
  KvStorage(KvStorage&&) = default;
  KvStorage& operator=(KvStorage&&) = default;

  // Bytes one block takes over all layers (for sizing from a memory budget).
  static StatusOr<int64_t> BytesPerBlock(const ModelConfig& config, int64_t block_size,
                                         DType dtype);
  static StatusOr<KvStorage> Create(const ModelConfig& config, const KvStorageOptions& options);

  int64_t n_blocks() const { return options_.n_blocks; }
  int64_t block_size() const { return options_.block_size; }
  DType dtype() const { return options_.dtype; }
  bool is_latent() const { return latent_width_ > 0; }
  size_t bytes() const { return memory_.size(); }

  PagedKvCache Kv(int64_t layer) const;
  PagedLatentCache Latent(int64_t layer) const;

  // Stores `values` (converted to the element type) at the slot of `position`. Standard
  // attention: the token's k (n_kv_heads * head_dim_k values) and v; MLA: the latent row.
  void StoreK(int64_t layer, std::span<const int32_t> block_table, int64_t position,
              const float* values);
  void StoreV(int64_t layer, std::span<const int32_t> block_table, int64_t position,
              const float* values);
  void StoreLatent(int64_t layer, std::span<const int32_t> block_table, int64_t position,
                   const float* values);

 private:
  std::byte* Slot(std::byte* pool, int64_t row_elems, std::span<const int32_t> block_table,
                  int64_t position) const;
  void Store(std::byte* dst, const float* values, int64_t n) const;
  std::byte* LayerBase(int64_t layer) const;

  KvStorageOptions options_;
  int64_t n_kv_heads_ = 0;
  int64_t head_dim_k_ = 0;
  int64_t head_dim_v_ = 0;
  int64_t kv_lora_rank_ = 0;
  int64_t rope_dim_ = 0;
  int64_t latent_width_ = 0;  // kv_lora_rank + dr, 0 for standard attention
  int64_t layer_bytes_ = 0;   // k pool + v pool, or the latent pool
  int64_t k_pool_bytes_ = 0;  // standard attention: offset of the v pool in a layer
  AlignedBuffer memory_;
};

}  // namespace dsinfer

#endif  // DSINFER_MODEL_KV_STORAGE_H_
