#include "kernels/reference/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "quant/half.h"

namespace dsinfer {
namespace {

// Dimensions are bounded so that products of two of them cannot overflow int64_t.
constexpr int64_t kMaxDim = int64_t{1} << 31;

Status CheckDim(const char* op, const char* name, int64_t value) {
  if (value >= 1 && value < kMaxDim) return Status::Ok();
  return InvalidArgumentError(
      fmt::format("{}: {} = {} is out of range [1, 2^31)", op, name, value));
}

// size == a * b * c, checked without overflowing (each factor is < 2^31, a may be 0).
bool IsProduct(size_t size, int64_t a, int64_t b, int64_t c) {
  const int64_t bc = b * c;
  const auto s = static_cast<int64_t>(size);
  return s % bc == 0 && s / bc == a;
}

int64_t ElementBytes(DType dtype) { return dtype == DType::kF16 ? 2 : 4; }

// The number of blocks of a pool whose blocks hold block_size rows of row_elems elements.
StatusOr<int64_t> PoolBlocks(const char* op, const char* name, size_t pool_bytes, DType dtype,
                             int64_t block_size, int64_t row_elems) {
  const int64_t block_bytes = block_size * row_elems * ElementBytes(dtype);
  if (static_cast<int64_t>(pool_bytes) % block_bytes != 0) {
    return InvalidArgumentError(fmt::format("{}: {} of {} bytes is not whole blocks of {} bytes",
                                            op, name, pool_bytes, block_bytes));
  }
  return static_cast<int64_t>(pool_bytes) / block_bytes;
}

Status CheckCommon(const char* op, DType dtype, int64_t block_size, const AttentionParams& p) {
  if (dtype != DType::kF32 && dtype != DType::kF16) {
    return InvalidArgumentError(
        fmt::format("{}: cache dtype {} is not F32 or F16", op, DTypeName(dtype)));
  }
  DSI_RETURN_IF_ERROR(CheckDim(op, "block_size", block_size));
  DSI_RETURN_IF_ERROR(CheckDim(op, "n_heads", p.n_heads));
  if (p.n_tokens < 0 || p.n_tokens >= kMaxDim) {
    return InvalidArgumentError(fmt::format("{}: n_tokens = {} is out of range", op, p.n_tokens));
  }
  if (p.n_past < 0 || p.n_past >= (int64_t{1} << 40)) {
    return InvalidArgumentError(fmt::format("{}: n_past = {} is out of range", op, p.n_past));
  }
  if (!std::isfinite(p.scale)) {
    return InvalidArgumentError(fmt::format("{}: scale {} is not finite", op, p.scale));
  }
  return Status::Ok();
}

// The first ceil(length / block_size) entries exist and name blocks of the pool.
Status CheckBlockTable(const char* op, std::span<const int32_t> table, int64_t length,
                       int64_t block_size, int64_t n_blocks) {
  const int64_t needed = (length + block_size - 1) / block_size;
  if (static_cast<int64_t>(table.size()) < needed) {
    return InvalidArgumentError(
        fmt::format("{}: block table has {} entries; length {} with block_size {} needs {}", op,
                    table.size(), length, block_size, needed));
  }
  for (int64_t i = 0; i < needed; ++i) {
    const int32_t id = table[static_cast<size_t>(i)];
    if (id < 0 || id >= n_blocks) {
      return InvalidArgumentError(fmt::format(
          "{}: block_table[{}] = {} is outside the pool of {} blocks", op, i, id, n_blocks));
    }
  }
  return Status::Ok();
}

// Element e of row `row` of a pool with rows of `row_elems` elements (the row of a token slot,
// or of one KV head within it), widened to double.
double Load(std::span<const std::byte> pool, DType dtype, int64_t row, int64_t row_elems,
            int64_t e) {
  const int64_t index = row * row_elems + e;
  if (dtype == DType::kF16) {
    uint16_t h = 0;
    std::memcpy(&h, pool.data() + index * 2, sizeof(h));
    return Fp16ToFp32(h);
  }
  float f = 0.0f;
  std::memcpy(&f, pool.data() + index * 4, sizeof(f));
  return f;
}

// The slot row of position `pos` of the sequence: block_table[pos / bs] * bs + pos % bs.
int64_t SlotRow(std::span<const int32_t> table, int64_t block_size, int64_t pos) {
  return int64_t{table[static_cast<size_t>(pos / block_size)]} * block_size + pos % block_size;
}

// Softmax of `scores` in place (double), returning nothing: scores become the weights.
void SoftmaxInPlace(std::vector<double>& scores) {
  const double max = *std::max_element(scores.begin(), scores.end());
  double sum = 0.0;
  for (double& s : scores) {
    s = std::exp(s - max);
    sum += s;
  }
  for (double& s : scores) s /= sum;  // sum >= 1: the max contributes exp(0)
}

}  // namespace

Status CheckAttentionArgs(size_t q_size, const PagedKvCache& kv,
                          std::span<const int32_t> block_table, const AttentionParams& params,
                          size_t out_size) {
  constexpr const char* kOp = "attention";
  DSI_RETURN_IF_ERROR(CheckCommon(kOp, kv.dtype, kv.block_size, params));
  DSI_RETURN_IF_ERROR(CheckDim(kOp, "n_kv_heads", kv.n_kv_heads));
  DSI_RETURN_IF_ERROR(CheckDim(kOp, "head_dim_k", kv.head_dim_k));
  DSI_RETURN_IF_ERROR(CheckDim(kOp, "head_dim_v", kv.head_dim_v));
  if (params.n_heads % kv.n_kv_heads != 0) {
    return InvalidArgumentError(fmt::format("{}: n_heads {} is not a multiple of n_kv_heads {}",
                                            kOp, params.n_heads, kv.n_kv_heads));
  }
  if (!IsProduct(q_size, params.n_tokens, params.n_heads, kv.head_dim_k)) {
    return InvalidArgumentError(
        fmt::format("{}: q of {} floats, want n_tokens {} x n_heads {} x {}", kOp, q_size,
                    params.n_tokens, params.n_heads, kv.head_dim_k));
  }
  if (!IsProduct(out_size, params.n_tokens, params.n_heads, kv.head_dim_v)) {
    return InvalidArgumentError(
        fmt::format("{}: out of {} floats, want n_tokens {} x n_heads {} x {}", kOp, out_size,
                    params.n_tokens, params.n_heads, kv.head_dim_v));
  }
  const int64_t row_k = kv.n_kv_heads * kv.head_dim_k;
  const int64_t row_v = kv.n_kv_heads * kv.head_dim_v;
  DSI_ASSIGN_OR_RETURN(const int64_t k_blocks,
                       PoolBlocks(kOp, "k_pool", kv.k_pool.size(), kv.dtype, kv.block_size, row_k));
  DSI_ASSIGN_OR_RETURN(const int64_t v_blocks,
                       PoolBlocks(kOp, "v_pool", kv.v_pool.size(), kv.dtype, kv.block_size, row_v));
  if (k_blocks != v_blocks) {
    return InvalidArgumentError(
        fmt::format("{}: k_pool has {} blocks but v_pool {}", kOp, k_blocks, v_blocks));
  }
  return CheckBlockTable(kOp, block_table, params.n_past + params.n_tokens, kv.block_size,
                         k_blocks);
}

Status CheckMlaArgs(size_t q_absorbed_size, size_t q_pe_size, const PagedLatentCache& latent,
                    std::span<const int32_t> block_table, const AttentionParams& params,
                    size_t out_size) {
  constexpr const char* kOp = "mla_attention";
  DSI_RETURN_IF_ERROR(CheckCommon(kOp, latent.dtype, latent.block_size, params));
  DSI_RETURN_IF_ERROR(CheckDim(kOp, "kv_lora_rank", latent.kv_lora_rank));
  DSI_RETURN_IF_ERROR(CheckDim(kOp, "qk_rope_head_dim", latent.qk_rope_head_dim));
  const int64_t rank = latent.kv_lora_rank;
  if (!IsProduct(q_absorbed_size, params.n_tokens, params.n_heads, rank)) {
    return InvalidArgumentError(
        fmt::format("{}: q_absorbed of {} floats, want n_tokens {} x n_heads {} x kv_lora_rank {}",
                    kOp, q_absorbed_size, params.n_tokens, params.n_heads, rank));
  }
  if (!IsProduct(q_pe_size, params.n_tokens, params.n_heads, latent.qk_rope_head_dim)) {
    return InvalidArgumentError(
        fmt::format("{}: q_pe of {} floats, want n_tokens {} x n_heads {} x qk_rope_head_dim {}",
                    kOp, q_pe_size, params.n_tokens, params.n_heads, latent.qk_rope_head_dim));
  }
  if (!IsProduct(out_size, params.n_tokens, params.n_heads, rank)) {
    return InvalidArgumentError(
        fmt::format("{}: out_latent of {} floats, want n_tokens {} x n_heads {} x kv_lora_rank {}",
                    kOp, out_size, params.n_tokens, params.n_heads, rank));
  }
  DSI_ASSIGN_OR_RETURN(const int64_t n_blocks,
                       PoolBlocks(kOp, "pool", latent.pool.size(), latent.dtype, latent.block_size,
                                  rank + latent.qk_rope_head_dim));
  return CheckBlockTable(kOp, block_table, params.n_past + params.n_tokens, latent.block_size,
                         n_blocks);
}

Status AttentionPaged(std::span<const float> q, const PagedKvCache& kv,
                      std::span<const int32_t> block_table, const AttentionParams& params,
                      std::span<float> out) {
  DSI_RETURN_IF_ERROR(CheckAttentionArgs(q.size(), kv, block_table, params, out.size()));
  const int64_t dk = kv.head_dim_k;
  const int64_t dv = kv.head_dim_v;
  const int64_t group = params.n_heads / kv.n_kv_heads;  // query heads per KV head
  std::vector<double> weights;
  std::vector<double> acc(static_cast<size_t>(dv));
  for (int64_t i = 0; i < params.n_tokens; ++i) {
    const int64_t visible = params.n_past + i + 1;
    for (int64_t h = 0; h < params.n_heads; ++h) {
      const int64_t kv_head = h / group;
      const float* qh = q.data() + (i * params.n_heads + h) * dk;
      weights.assign(static_cast<size_t>(visible), 0.0);
      for (int64_t t = 0; t < visible; ++t) {
        // Row of (slot, kv_head) in a pool viewed as [slots * n_kv_heads, head_dim].
        const int64_t row = SlotRow(block_table, kv.block_size, t) * kv.n_kv_heads + kv_head;
        double dot = 0.0;
        for (int64_t e = 0; e < dk; ++e) dot += qh[e] * Load(kv.k_pool, kv.dtype, row, dk, e);
        weights[static_cast<size_t>(t)] = static_cast<double>(params.scale) * dot;
      }
      SoftmaxInPlace(weights);
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t t = 0; t < visible; ++t) {
        const int64_t row = SlotRow(block_table, kv.block_size, t) * kv.n_kv_heads + kv_head;
        const double w = weights[static_cast<size_t>(t)];
        for (int64_t e = 0; e < dv; ++e) {
          acc[static_cast<size_t>(e)] += w * Load(kv.v_pool, kv.dtype, row, dv, e);
        }
      }
      float* oh = out.data() + (i * params.n_heads + h) * dv;
      for (int64_t e = 0; e < dv; ++e) oh[e] = static_cast<float>(acc[static_cast<size_t>(e)]);
    }
  }
  return Status::Ok();
}

Status MlaAttentionAbsorbed(std::span<const float> q_absorbed, std::span<const float> q_pe,
                            const PagedLatentCache& latent, std::span<const int32_t> block_table,
                            const AttentionParams& params, std::span<float> out_latent) {
  DSI_RETURN_IF_ERROR(
      CheckMlaArgs(q_absorbed.size(), q_pe.size(), latent, block_table, params, out_latent.size()));
  const int64_t rank = latent.kv_lora_rank;
  const int64_t rope = latent.qk_rope_head_dim;
  const int64_t row_elems = rank + rope;  // [c_kv ; k_pe]
  std::vector<double> weights;
  std::vector<double> acc(static_cast<size_t>(rank));
  for (int64_t i = 0; i < params.n_tokens; ++i) {
    const int64_t visible = params.n_past + i + 1;
    for (int64_t h = 0; h < params.n_heads; ++h) {
      const float* qa = q_absorbed.data() + (i * params.n_heads + h) * rank;
      const float* qr = q_pe.data() + (i * params.n_heads + h) * rope;
      weights.assign(static_cast<size_t>(visible), 0.0);
      for (int64_t t = 0; t < visible; ++t) {
        const int64_t row = SlotRow(block_table, latent.block_size, t);
        double dot = 0.0;
        for (int64_t e = 0; e < rank; ++e) {
          dot += qa[e] * Load(latent.pool, latent.dtype, row, row_elems, e);
        }
        for (int64_t e = 0; e < rope; ++e) {
          dot += qr[e] * Load(latent.pool, latent.dtype, row, row_elems, rank + e);
        }
        weights[static_cast<size_t>(t)] = static_cast<double>(params.scale) * dot;
      }
      SoftmaxInPlace(weights);
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t t = 0; t < visible; ++t) {
        const int64_t row = SlotRow(block_table, latent.block_size, t);
        const double w = weights[static_cast<size_t>(t)];
        for (int64_t e = 0; e < rank; ++e) {
          acc[static_cast<size_t>(e)] += w * Load(latent.pool, latent.dtype, row, row_elems, e);
        }
      }
      float* oh = out_latent.data() + (i * params.n_heads + h) * rank;
      for (int64_t e = 0; e < rank; ++e) oh[e] = static_cast<float>(acc[static_cast<size_t>(e)]);
    }
  }
  return Status::Ok();
}

}  // namespace dsinfer
