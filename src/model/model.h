// Model: one loaded language model and its forward pass (shared/reference/deepseek-models.md
// §3). Forward(batch) runs every layer over the batch's new tokens with the kernels/ ops,
// writes their keys/values (or MLA latents) into the KvStorage, and returns the logits of the
// rows asked for:
//
//   x = token_embd[tokens]
//   per layer:  x += Attention(RMSNorm(x)) ;  x += FFN(RMSNorm(x))
//   logits = output(RMSNorm(x[rows]))
//
// Attention is standard GQA (llama, qwen2, deepseek) or MLA in the weight-absorbed form over
// the latent cache (deepseek2); FFN is the dense SwiGLU MLP or the MoE (router, the selected
// experts only, shared experts). RoPE pairing follows the GGUF convention of the arch:
// interleaved for llama/deepseek/deepseek2 (q/k rows permuted by the converter), half-split
// for qwen2.
//
// Thread safety: Forward writes the caller's KvStorage: one Forward per KvStorage at a time
// (the engine thread). The pool spreads each op over its threads.
#ifndef DSINFER_MODEL_MODEL_H_
#define DSINFER_MODEL_MODEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "kernels/reference/rope.h"
#include "model/forward_batch.h"
#include "model/kv_storage.h"
#include "model/layers.h"
#include "model/model_config.h"
#include "model/model_weights.h"
#include "model/weight_store.h"
#include "platform/thread_pool.h"

namespace dsinfer {

class Model {
 public:
  Model(Model&&) = default;
  Model& operator=(Model&&) = default;

  // Binds `store` to `config` (ModelWeights::Bind) and precomputes the RoPE tables.
  static StatusOr<Model> Create(const ModelConfig& config, WeightStore store,
                                const ModelWeights::BindOptions& options, ThreadPool* pool);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const WeightStore& store() const { return *store_; }
  int64_t vocab_size() const { return config_.vocab_size; }

  // logits: [batch.logit_rows.size(), vocab_size]. InvalidArgument for a malformed batch
  // (token id out of range, slices not tiling `tokens`, a block table too short).
  Status Forward(const ForwardBatch& batch, KvStorage& kv, std::span<float> logits,
                 ThreadPool* pool) const;

 private:
  Model() = default;

  ModelConfig config_;
  std::unique_ptr<WeightStore> store_;  // heap: the weights' views point into it
  ModelWeights weights_;
  AttentionSetup attention_;
};

}  // namespace dsinfer

#endif  // DSINFER_MODEL_MODEL_H_
