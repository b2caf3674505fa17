#include "model/kv_storage.h"

#include <cstring>

#include <fmt/format.h>

#include "base/check.h"
#include "kernels/kernel_table.h"

namespace dsinfer {

namespace {

struct KvShape {
  int64_t n_kv_heads = 0, head_dim_k = 0, head_dim_v = 0, latent_width = 0;
  // Elements per token per layer.
  int64_t elems() const {
    return latent_width > 0 ? latent_width : n_kv_heads * (head_dim_k + head_dim_v);
  }
};

KvShape ShapeOf(const ModelConfig& c) {
  if (c.uses_mla()) return KvShape{.latent_width = c.kv_lora_rank + c.qk_rope_head_dim};
  return KvShape{
      .n_kv_heads = c.num_key_value_heads, .head_dim_k = c.head_dim, .head_dim_v = c.head_dim};
}

Status CheckDtype(DType dtype) {
  if (dtype != DType::kF16 && dtype != DType::kF32) {
    return InvalidArgumentError(
        fmt::format("KV cache type {} is not supported (f16 or f32)", DTypeName(dtype)));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<int64_t> KvStorage::BytesPerBlock(const ModelConfig& config, int64_t block_size,
                                           DType dtype) {
  DSI_RETURN_IF_ERROR(CheckDtype(dtype));
  if (block_size < 1) return InvalidArgumentError("KV block size must be at least 1");
  const int64_t elem = dtype == DType::kF16 ? 2 : 4;
  return ShapeOf(config).elems() * elem * block_size * config.num_hidden_layers;
}

StatusOr<KvStorage> KvStorage::Create(const ModelConfig& config, const KvStorageOptions& options) {
  DSI_ASSIGN_OR_RETURN(const int64_t per_block,
                       BytesPerBlock(config, options.block_size, options.dtype));
  if (options.n_blocks < 1) return InvalidArgumentError("KV cache needs at least one block");
  KvStorage s;
  s.options_ = options;
  const KvShape shape = ShapeOf(config);
  s.n_kv_heads_ = shape.n_kv_heads;
  s.head_dim_k_ = shape.head_dim_k;
  s.head_dim_v_ = shape.head_dim_v;
  s.kv_lora_rank_ = config.kv_lora_rank;
  s.rope_dim_ = config.qk_rope_head_dim;
  s.latent_width_ = shape.latent_width;
  const int64_t elem = options.dtype == DType::kF16 ? 2 : 4;
  const int64_t slots = options.n_blocks * options.block_size;
  s.k_pool_bytes_ = slots * shape.n_kv_heads * shape.head_dim_k * elem;
  s.layer_bytes_ = per_block / config.num_hidden_layers * options.n_blocks;
  s.memory_ = AlignedBuffer(static_cast<size_t>(per_block * options.n_blocks));
  // Fresh slots are never read (attention reads only positions below the length), but zeroed
  // memory keeps a stray read deterministic and touches the pages now rather than mid-request.
  std::memset(s.memory_.data(), 0, s.memory_.size());
  return s;
}

std::byte* KvStorage::LayerBase(int64_t layer) const {
  // The buffer is owned and mutable; views handed out are read-only.
  return const_cast<std::byte*>(memory_.data()) + layer * layer_bytes_;
}

PagedKvCache KvStorage::Kv(int64_t layer) const {
  const std::byte* base = LayerBase(layer);
  return PagedKvCache{
      .dtype = options_.dtype,
      .block_size = options_.block_size,
      .n_kv_heads = n_kv_heads_,
      .head_dim_k = head_dim_k_,
      .head_dim_v = head_dim_v_,
      .k_pool = {base, static_cast<size_t>(k_pool_bytes_)},
      .v_pool = {base + k_pool_bytes_, static_cast<size_t>(layer_bytes_ - k_pool_bytes_)}};
}

PagedLatentCache KvStorage::Latent(int64_t layer) const {
  return PagedLatentCache{.dtype = options_.dtype,
                          .block_size = options_.block_size,
                          .kv_lora_rank = kv_lora_rank_,
                          .qk_rope_head_dim = rope_dim_,
                          .pool = {LayerBase(layer), static_cast<size_t>(layer_bytes_)}};
}

std::byte* KvStorage::Slot(std::byte* pool, int64_t row_elems, std::span<const int32_t> block_table,
                           int64_t position) const {
  const int64_t index = position / options_.block_size;
  DSI_CHECK(index >= 0 && index < static_cast<int64_t>(block_table.size()));
  const int64_t block = block_table[static_cast<size_t>(index)];
  DSI_CHECK(block >= 0 && block < options_.n_blocks);
  const int64_t slot = block * options_.block_size + position % options_.block_size;
  const int64_t elem = options_.dtype == DType::kF16 ? 2 : 4;
  return pool + slot * row_elems * elem;
}

void KvStorage::Store(std::byte* dst, const float* values, int64_t n) const {
  if (options_.dtype == DType::kF32) {
    std::memcpy(dst, values, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  // The selected level's F16 row quantiser: Fp32ToFp16's bytes, a vector at a time (one element
  // at a time it was 0.4 % of a 1.5B Q4_0 decode step).
  kernels::Kernels().QuantizeRow(DType::kF16)(values, dst, n);
}

void KvStorage::StoreK(int64_t layer, std::span<const int32_t> block_table, int64_t position,
                       const float* values) {
  const int64_t n = n_kv_heads_ * head_dim_k_;
  Store(Slot(LayerBase(layer), n, block_table, position), values, n);
}

void KvStorage::StoreV(int64_t layer, std::span<const int32_t> block_table, int64_t position,
                       const float* values) {
  const int64_t n = n_kv_heads_ * head_dim_v_;
  Store(Slot(LayerBase(layer) + k_pool_bytes_, n, block_table, position), values, n);
}

void KvStorage::StoreLatent(int64_t layer, std::span<const int32_t> block_table, int64_t position,
                            const float* values) {
  Store(Slot(LayerBase(layer), latent_width_, block_table, position), values, latent_width_);
}

}  // namespace dsinfer
