// The layer computations of Model::Forward, one function per kind of block. Each reads its
// input rows x [n_tokens, D] and writes out [n_tokens, D] (the residual add is the caller's).
// Internal to model/; the formulas are shared/reference/deepseek-models.md §3.
#ifndef DSINFER_MODEL_LAYERS_H_
#define DSINFER_MODEL_LAYERS_H_

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "kernels/reference/rope.h"
#include "model/forward_batch.h"
#include "model/kv_storage.h"
#include "model/model_config.h"
#include "model/model_weights.h"
#include "platform/thread_pool.h"

namespace dsinfer {

// RoPE and softmax constants of the attention layers, computed once per model.
struct AttentionSetup {
  RopePairing pairing = RopePairing::kInterleaved;
  std::vector<float> inv_freq;         // one per rotated pair
  double rope_attention_factor = 1.0;  // YaRN cos/sin magnitude (1 for DeepSeek configs)
  float softmax_scale = 1.0f;          // head_dim^-1/2, or MLA's with YaRN's mscale^2
};

// Derives AttentionSetup from the config (and llama3's rope_freqs divisors, when the model
// has them).
StatusOr<AttentionSetup> MakeAttentionSetup(const ModelConfig& config,
                                            std::span<const float> rope_divisors);

// What attention needs about the step beyond the weights.
struct AttentionStep {
  const ModelConfig& config;
  const AttentionSetup& setup;
  const ForwardBatch& batch;
  std::span<const int64_t> positions;  // per token of the batch
  KvStorage& kv;
  int64_t layer = 0;
  ThreadPool* pool = nullptr;
};

Status StandardAttentionForward(const StandardAttentionWeights& w, const AttentionStep& step,
                                std::span<const float> x, std::span<float> out);
Status MlaForward(const MlaWeights& w, const AttentionStep& step, std::span<const float> x,
                  std::span<float> out);

Status DenseMlpForward(const DenseMlpWeights& w, std::span<const float> x, int64_t n_tokens,
                       std::span<float> out, ThreadPool* pool);
// The selected experts run in waves, each a batch of every gate and up and a batch of every
// down; a wave takes experts until their scratch (input, gate, up and output rows, and in the
// first wave the shared experts' gate and up) would pass `wave_scratch_bytes`. A wave holds at
// least one expert, and a decode step's experts always fit in one.
inline constexpr int64_t kMoeWaveScratchBytes = int64_t{64} << 20;
Status MoeForward(const MoeWeights& w, const ModelConfig& config, std::span<const float> x,
                  int64_t n_tokens, std::span<float> out, ThreadPool* pool,
                  int64_t wave_scratch_bytes = kMoeWaveScratchBytes);

}  // namespace dsinfer

#endif  // DSINFER_MODEL_LAYERS_H_
