// Standard multi-head attention with grouped KV heads (llama, qwen2, deepseek MoE-16B):
// reference §3.3. q/k/v projections (+ qwen2 biases), RoPE on q and k, keys and values into
// the paged cache, causal attention per sequence, output projection.
#include <span>

#include "base/scratch_floats.h"
#include "kernels/attention.h"
#include "kernels/rope.h"
#include "model/layers.h"

namespace dsinfer {

namespace {

void AddBias(std::span<const float> bias, int64_t n_tokens, std::span<float> y) {
  if (bias.empty()) return;
  const size_t width = bias.size();
  for (int64_t t = 0; t < n_tokens; ++t) {
    float* row = y.data() + static_cast<size_t>(t) * width;
    for (size_t i = 0; i < width; ++i) row[i] += bias[i];
  }
}

}  // namespace

Status StandardAttentionForward(const StandardAttentionWeights& w, const AttentionStep& step,
                                std::span<const float> x, std::span<float> out) {
  const ModelConfig& c = step.config;
  const auto n_tokens = static_cast<int64_t>(step.batch.tokens.size());
  const int64_t hd = c.head_dim;
  const int64_t q_width = c.num_attention_heads * hd;
  const int64_t kv_width = c.num_key_value_heads * hd;
  ScratchFloats q_scratch(static_cast<size_t>(n_tokens * q_width));
  ScratchFloats k_scratch(static_cast<size_t>(n_tokens * kv_width));
  ScratchFloats v_scratch(k_scratch.size());
  const std::span<float> q = q_scratch.span();
  const std::span<float> k = k_scratch.span();
  const std::span<float> v = v_scratch.span();
  const Linear* qkv[] = {&w.q, &w.k, &w.v};
  const std::span<float> qkv_out[] = {q, k, v};
  DSI_RETURN_IF_ERROR(ApplySharedInput(qkv, x, n_tokens, qkv_out, step.pool));
  AddBias(w.q_bias, n_tokens, q);
  AddBias(w.k_bias, n_tokens, k);
  AddBias(w.v_bias, n_tokens, v);

  const AttentionSetup& s = step.setup;
  const kernels::RopeBatchTarget rotated[] = {
      {.layout = {.n_heads = c.num_attention_heads, .head_dim = hd, .rope_offset = 0}, .x = q},
      {.layout = {.n_heads = c.num_key_value_heads, .head_dim = hd, .rope_offset = 0}, .x = k}};
  kernels::ApplyRopeBatches(s.pairing, s.inv_freq, step.positions, rotated, s.rope_attention_factor,
                            step.pool);

  ScratchFloats attended_scratch(q_scratch.size());
  const std::span<float> attended = attended_scratch.span();
  for (const SequenceSlice& seq : step.batch.sequences) {
    for (int64_t i = 0; i < seq.n_tokens; ++i) {
      const int64_t t = seq.first_token + i;
      step.kv.StoreK(step.layer, seq.block_table, seq.n_past + i, k.data() + t * kv_width);
      step.kv.StoreV(step.layer, seq.block_table, seq.n_past + i, v.data() + t * kv_width);
    }
    const auto q_rows =
        std::span<const float>(q).subspan(static_cast<size_t>(seq.first_token * q_width),
                                          static_cast<size_t>(seq.n_tokens * q_width));
    const auto out_rows =
        std::span<float>(attended).subspan(static_cast<size_t>(seq.first_token * q_width),
                                           static_cast<size_t>(seq.n_tokens * q_width));
    DSI_RETURN_IF_ERROR(kernels::AttentionPaged(q_rows, step.kv.Kv(step.layer), seq.block_table,
                                                {.n_tokens = seq.n_tokens,
                                                 .n_heads = c.num_attention_heads,
                                                 .n_past = seq.n_past,
                                                 .scale = s.softmax_scale},
                                                out_rows, step.pool));
  }
  return w.o.Apply(attended, n_tokens, out, step.pool);
}

}  // namespace dsinfer
