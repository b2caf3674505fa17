// DeepSeek V2/V3 multi-head latent attention in the weight-absorbed form (reference §3.9):
//
//   q      = W_qb RMSNorm(W_qa x)  (q-LoRA) or W_q x;  per head [q_nope (dn) ; q_pe (dr)]
//   a      = W_kva x = [c (rkv) ; k_pe (dr)];  cache [RMSNorm(c) ; RoPE(k_pe)]
//   q_abs  = W_UK[h]^T q_nope[h]            (attn_k_b[h]: [rkv, dn])
//   o_lat  = softmax(scale (q_abs . c_kv + q_pe . k_pe)) c_kv   over the latent cache
//   o[h]   = W_UV[h] o_lat[h]               (attn_v_b[h]: [dv, rkv])
//   out    = W_o concat_h o[h]
//
// The cache holds only rkv + dr values per token per layer. The per-head products are small
// (rkv x dn): all heads' rows share one parallel loop (PerHeadProduct).
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "base/scratch_floats.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/for_range.h"
#include "kernels/packed_matrix.h"
#include "kernels/rope.h"
#include "model/layers.h"

namespace dsinfer {

namespace {

// The most bytes of gathered inputs and results PerHeadProduct holds at once.
constexpr int64_t kPerHeadScratchBytes = int64_t{8} << 20;

// Head h's input of every token, src[t, h, :] (rows of `src_stride`, the head's n_in values at
// h * src_offset), into `in` [n_tokens, n_in].
void GatherHeadInput(std::span<const float> src, int64_t src_stride, int64_t src_offset, int64_t h,
                     int64_t n_tokens, int64_t n_in, std::span<float> in) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* from = src.data() + t * src_stride + h * src_offset;
    std::copy(from, from + n_in, in.begin() + t * n_in);
  }
}

// Head h's result [n_tokens, rows] into dst[t, h * rows ...] (rows of `dst_stride`).
void ScatterHeadResult(std::span<const float> result, int64_t h, int64_t n_tokens, int64_t rows,
                       std::span<float> dst, int64_t dst_stride) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    std::copy(result.begin() + t * rows, result.begin() + (t + 1) * rows,
              dst.begin() + t * dst_stride + h * rows);
  }
}

// PerHeadProduct where the heads are rows as stored (a type without a packed layout: F32, F16 or
// BF16 heads, or a legacy file's V rows in such a type): MatMulPackedBatch would run them one
// parallel MatMul after another, so the heads are split over the threads instead, each head's
// product on its thread.
Status PerHeadRowProducts(const Linear& weight, int64_t n_heads, int64_t n_tokens,
                          std::span<const float> src, int64_t src_stride, int64_t src_offset,
                          std::span<float> dst, int64_t dst_stride, ThreadPool* pool) {
  const int64_t n_in = weight.n_in();
  const int64_t rows = weight.n_out();
  std::vector<Status> errors(static_cast<size_t>(n_heads));
  kernels::ForRange(pool, n_heads, [&](int64_t begin, int64_t end) {
    ScratchFloats in_scratch(static_cast<size_t>(n_tokens * n_in));
    ScratchFloats result_scratch(static_cast<size_t>(n_tokens * rows));
    const std::span<float> in = in_scratch.span();
    const std::span<float> result = result_scratch.span();
    for (int64_t h = begin; h < end; ++h) {
      GatherHeadInput(src, src_stride, src_offset, h, n_tokens, n_in, in);
      Status& error = errors[static_cast<size_t>(h)];
      error = kernels::MatMulPacked(weight.ExpertOperand(h), in, n_tokens, result, nullptr);
      if (error.ok()) ScatterHeadResult(result, h, n_tokens, rows, dst, dst_stride);
    }
  });
  for (const Status& s : errors) DSI_RETURN_IF_ERROR(s);
  return Status::Ok();
}

// dst[t, h, :] = W[h] src[t, h, :] for every head, W[h] head h of the stacked `weight` (its
// `rows` rows). src rows of `src_stride` values, the head's input at h * src_offset.
//
// Packed heads run as batches of MatMulPackedBatch products, each batch one balanced loop over
// its heads' rows (a decode step's heads all in one): a product per head, each on one thread,
// paid its own setup, ~2 us a head for V2-Lite's 45 KiB heads (bench/README.md). A batch
// gathers its heads' inputs and results in scratch of at most kPerHeadScratchBytes, so that a
// long prompt's products do not take a copy of every head at once.
Status PerHeadProduct(const Linear& weight, int64_t n_heads, int64_t n_tokens,
                      std::span<const float> src, int64_t src_stride, int64_t src_offset,
                      std::span<float> dst, int64_t dst_stride, ThreadPool* pool) {
  const int64_t n_in = weight.n_in();
  const int64_t rows = weight.n_out();
  if (weight.packed_experts.empty()) {
    return PerHeadRowProducts(weight, n_heads, n_tokens, src, src_stride, src_offset, dst,
                              dst_stride, pool);
  }
  const int64_t head_floats = n_tokens * (n_in + rows);
  const int64_t batch = std::clamp<int64_t>(
      kPerHeadScratchBytes / std::max<int64_t>(1, head_floats * int64_t{sizeof(float)}), 1,
      n_heads);
  ScratchFloats in_scratch(static_cast<size_t>(batch * n_tokens * n_in));
  ScratchFloats result_scratch(static_cast<size_t>(batch * n_tokens * rows));
  std::vector<kernels::PackedProduct> products;
  products.reserve(static_cast<size_t>(batch));
  for (int64_t first = 0; first < n_heads; first += batch) {
    const int64_t count = std::min(batch, n_heads - first);
    products.clear();
    for (int64_t i = 0; i < count; ++i) {
      const int64_t h = first + i;
      const std::span<float> in = in_scratch.span().subspan(
          static_cast<size_t>(i * n_tokens * n_in), static_cast<size_t>(n_tokens * n_in));
      GatherHeadInput(src, src_stride, src_offset, h, n_tokens, n_in, in);
      products.push_back(
          {.weight = weight.ExpertOperand(h),
           .x = in,
           .n_tokens = n_tokens,
           .y = result_scratch.span().subspan(static_cast<size_t>(i * n_tokens * rows),
                                              static_cast<size_t>(n_tokens * rows))});
    }
    DSI_RETURN_IF_ERROR(kernels::MatMulPackedBatch(products, pool));
    for (int64_t i = 0; i < count; ++i) {
      ScatterHeadResult(products[static_cast<size_t>(i)].y, first + i, n_tokens, rows, dst,
                        dst_stride);
    }
  }
  return Status::Ok();
}

}  // namespace

Status MlaForward(const MlaWeights& w, const AttentionStep& step, std::span<const float> x,
                  std::span<float> out) {
  const ModelConfig& c = step.config;
  const AttentionSetup& s = step.setup;
  const auto n_tokens = static_cast<int64_t>(step.batch.tokens.size());
  const int64_t h = c.num_attention_heads;
  const int64_t dn = c.qk_nope_head_dim;
  const int64_t dr = c.qk_rope_head_dim;
  const int64_t dv = c.v_head_dim;
  const int64_t rkv = c.kv_lora_rank;
  const int64_t q_head = dn + dr;
  const auto eps = static_cast<float>(c.rms_norm_eps);

  // The two projections of x: the query's (q, or q-LoRA's q_a) and the latent's, together.
  const int64_t latent = rkv + dr;
  ScratchFloats q_scratch(static_cast<size_t>(n_tokens * h * q_head));
  ScratchFloats c_q_scratch(w.q_a.has_value() ? static_cast<size_t>(n_tokens * c.q_lora_rank) : 0);
  ScratchFloats kv_a_scratch(static_cast<size_t>(n_tokens * latent));
  const std::span<float> q = q_scratch.span();
  const std::span<float> c_q = c_q_scratch.span();
  const std::span<float> kv_a = kv_a_scratch.span();
  const Linear* from_x[] = {w.q_a.has_value() ? &*w.q_a : &*w.q, &w.kv_a_mqa};
  const std::span<float> from_x_out[] = {w.q_a.has_value() ? c_q : q, kv_a};
  DSI_RETURN_IF_ERROR(ApplySharedInput(from_x, x, n_tokens, from_x_out, step.pool));

  // Query (its rope part rotates below, with k_pe).
  if (w.q_a.has_value()) {
    DSI_RETURN_IF_ERROR(kernels::RmsNorm(c_q, w.q_a_norm, eps, c_q, step.pool));
    DSI_RETURN_IF_ERROR(w.q_b->Apply(c_q, n_tokens, q, step.pool));
  }

  // Latent: [RMSNorm(c) ; RoPE(k_pe)] per token, the row the cache stores. k_pe and the
  // queries' rope part rotate in one split over the threads.
  for (int64_t t = 0; t < n_tokens; ++t) {
    const std::span<float> row(kv_a.data() + t * latent, static_cast<size_t>(rkv));
    DSI_RETURN_IF_ERROR(kernels::RmsNorm(row, w.kv_a_norm, eps, row));
  }
  const kernels::RopeBatchTarget rotated[] = {
      {.layout = {.n_heads = h, .head_dim = q_head, .rope_offset = dn}, .x = q},
      {.layout = {.n_heads = 1, .head_dim = latent, .rope_offset = rkv}, .x = kv_a}};
  kernels::ApplyRopeBatches(s.pairing, s.inv_freq, step.positions, rotated, s.rope_attention_factor,
                            step.pool);

  // Absorbed query: q_abs[t, h] = W_UK[h]^T q_nope[t, h]; q_pe gathered per head.
  ScratchFloats q_abs_scratch(static_cast<size_t>(n_tokens * h * rkv));
  const std::span<float> q_abs = q_abs_scratch.span();
  DSI_RETURN_IF_ERROR(
      PerHeadProduct(w.k_b, h, n_tokens, q, h * q_head, q_head, q_abs, h * rkv, step.pool));
  ScratchFloats q_pe_scratch(static_cast<size_t>(n_tokens * h * dr));
  const std::span<float> q_pe = q_pe_scratch.span();
  for (int64_t r = 0; r < n_tokens * h; ++r) {
    std::copy(q.begin() + r * q_head + dn, q.begin() + (r + 1) * q_head, q_pe.begin() + r * dr);
  }

  ScratchFloats o_lat_scratch(q_abs_scratch.size());
  const std::span<float> o_lat = o_lat_scratch.span();
  for (const SequenceSlice& seq : step.batch.sequences) {
    for (int64_t i = 0; i < seq.n_tokens; ++i) {
      step.kv.StoreLatent(step.layer, seq.block_table, seq.n_past + i,
                          kv_a.data() + (seq.first_token + i) * latent);
    }
    const auto rows = [&](auto& v, int64_t width) {
      return std::span(v).subspan(static_cast<size_t>(seq.first_token * h * width),
                                  static_cast<size_t>(seq.n_tokens * h * width));
    };
    DSI_RETURN_IF_ERROR(kernels::MlaAttentionAbsorbed(
        rows(q_abs, rkv), rows(q_pe, dr), step.kv.Latent(step.layer), seq.block_table,
        {.n_tokens = seq.n_tokens, .n_heads = h, .n_past = seq.n_past, .scale = s.softmax_scale},
        rows(o_lat, rkv), step.pool));
  }

  // o[t, h] = W_UV[h] o_lat[t, h], then the output projection.
  ScratchFloats o_scratch(static_cast<size_t>(n_tokens * h * dv));
  const std::span<float> o = o_scratch.span();
  DSI_RETURN_IF_ERROR(
      PerHeadProduct(w.v_b, h, n_tokens, o_lat, h * rkv, rkv, o, h * dv, step.pool));
  return w.o.Apply(o, n_tokens, out, step.pool);
}

}  // namespace dsinfer
