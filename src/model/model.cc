#include "model/model.h"

#include <utility>

#include <fmt/format.h>

#include "kernels/elementwise.h"
#include "kernels/reference/matmul.h"

namespace dsinfer {

StatusOr<Model> Model::Create(const ModelConfig& config, WeightStore store,
                              const ModelWeights::BindOptions& options, ThreadPool* pool) {
  Model m;
  m.config_ = config;
  m.store_ = std::make_unique<WeightStore>(std::move(store));
  DSI_ASSIGN_OR_RETURN(m.weights_, ModelWeights::Bind(m.config_, *m.store_, options, pool));
  DSI_ASSIGN_OR_RETURN(m.attention_, MakeAttentionSetup(m.config_, m.weights_.rope_divisors));
  return m;
}

namespace {

// The batch must tile `tokens` with its slices and each slice's block table must cover it.
Status CheckBatch(const ForwardBatch& batch, const KvStorage& kv, int64_t vocab) {
  int64_t next = 0;
  for (const SequenceSlice& seq : batch.sequences) {
    if (seq.first_token != next || seq.n_tokens < 1 || seq.n_past < 0) {
      return InvalidArgumentError(fmt::format(
          "forward batch: slice at token {} (n_tokens {}, n_past {}) does not follow token {}",
          seq.first_token, seq.n_tokens, seq.n_past, next));
    }
    const int64_t blocks = (seq.n_past + seq.n_tokens + kv.block_size() - 1) / kv.block_size();
    if (static_cast<int64_t>(seq.block_table.size()) < blocks) {
      return InvalidArgumentError(
          fmt::format("forward batch: {} positions need {} KV blocks, the block table has {}",
                      seq.n_past + seq.n_tokens, blocks, seq.block_table.size()));
    }
    for (int64_t i = 0; i < blocks; ++i) {
      const int32_t block = seq.block_table[static_cast<size_t>(i)];
      if (block < 0 || block >= kv.n_blocks()) {
        return InvalidArgumentError(fmt::format(
            "forward batch: KV block {} outside the cache of {}", block, kv.n_blocks()));
      }
    }
    next += seq.n_tokens;
  }
  if (next != static_cast<int64_t>(batch.tokens.size())) {
    return InvalidArgumentError(
        fmt::format("forward batch: slices cover {} of {} tokens", next, batch.tokens.size()));
  }
  for (const int32_t token : batch.tokens) {
    if (token < 0 || token >= vocab) {
      return InvalidArgumentError(
          fmt::format("token id {} is outside the vocabulary of {}", token, vocab));
    }
  }
  for (const int64_t row : batch.logit_rows) {
    if (row < 0 || row >= next) {
      return InvalidArgumentError(
          fmt::format("forward batch: logit row {} of {} tokens", row, next));
    }
  }
  return Status::Ok();
}

}  // namespace

Status Model::Forward(const ForwardBatch& batch, KvStorage& kv, std::span<float> logits,
                      ThreadPool* pool) const {
  const ModelConfig& c = config_;
  DSI_RETURN_IF_ERROR(CheckBatch(batch, kv, c.vocab_size));
  if (kv.is_latent() != c.uses_mla()) {
    return InvalidArgumentError("forward: the KV storage was made for another model");
  }
  const auto n_rows = static_cast<int64_t>(batch.logit_rows.size());
  if (static_cast<int64_t>(logits.size()) != n_rows * c.vocab_size) {
    return InvalidArgumentError(fmt::format("forward: logits hold {} values, {} rows need {}",
                                            logits.size(), n_rows, n_rows * c.vocab_size));
  }
  const auto n_tokens = static_cast<int64_t>(batch.tokens.size());
  if (n_tokens == 0) return Status::Ok();
  const int64_t d = c.hidden_size;
  const auto eps = static_cast<float>(c.rms_norm_eps);

  std::vector<int64_t> positions(static_cast<size_t>(n_tokens));
  for (const SequenceSlice& seq : batch.sequences) {
    for (int64_t i = 0; i < seq.n_tokens; ++i) {
      positions[static_cast<size_t>(seq.first_token + i)] = seq.n_past + i;
    }
  }

  std::vector<float> x(static_cast<size_t>(n_tokens * d));
  DSI_RETURN_IF_ERROR(EmbeddingLookup(weights_.token_embd, batch.tokens, x));
  std::vector<float> normed(x.size());
  std::vector<float> block_out(x.size());
  for (int64_t layer = 0; layer < c.num_hidden_layers; ++layer) {
    const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
    const AttentionStep step{.config = c,
                             .setup = attention_,
                             .batch = batch,
                             .positions = positions,
                             .kv = kv,
                             .layer = layer,
                             .pool = pool};
    DSI_RETURN_IF_ERROR(kernels::RmsNorm(x, w.attn_norm, eps, normed, pool));
    if (w.mla.has_value()) {
      DSI_RETURN_IF_ERROR(MlaForward(*w.mla, step, normed, block_out));
    } else {
      DSI_RETURN_IF_ERROR(StandardAttentionForward(*w.attention, step, normed, block_out));
    }
    DSI_RETURN_IF_ERROR(kernels::Add(x, block_out, x));
    DSI_RETURN_IF_ERROR(kernels::RmsNorm(x, w.ffn_norm, eps, normed, pool));
    if (w.moe.has_value()) {
      DSI_RETURN_IF_ERROR(MoeForward(*w.moe, c, normed, n_tokens, block_out, pool));
    } else {
      DSI_RETURN_IF_ERROR(DenseMlpForward(*w.mlp, normed, n_tokens, block_out, pool));
    }
    DSI_RETURN_IF_ERROR(kernels::Add(x, block_out, x));
  }

  if (n_rows == 0) return Status::Ok();
  std::vector<float> rows(static_cast<size_t>(n_rows * d));
  for (int64_t r = 0; r < n_rows; ++r) {
    const int64_t t = batch.logit_rows[static_cast<size_t>(r)];
    std::copy(x.begin() + t * d, x.begin() + (t + 1) * d, rows.begin() + r * d);
  }
  DSI_RETURN_IF_ERROR(kernels::RmsNorm(rows, weights_.output_norm, eps, rows, pool));
  return weights_.output.Apply(rows, n_rows, logits, pool);
}

}  // namespace dsinfer
