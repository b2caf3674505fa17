// Generate: one sequence, start to finish, on a Model and its own KvStorage: the prompt in
// one forward pass, then one token per step with the KV cache, sampled per SamplingParams.
// The building block of `dsinfer run`, `dsinfer bench` and the model tests (incremental
// decode vs recompute); the server batches many sequences through the engine instead.
#ifndef DSINFER_RUNNER_GENERATE_H_
#define DSINFER_RUNNER_GENERATE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "model/kv_storage.h"
#include "model/model.h"
#include "platform/thread_pool.h"
#include "sampling/sampling_params.h"

namespace dsinfer::runner {

struct GenerateOptions {
  int64_t max_new_tokens = 16;
  sampling::SamplingParams sampling;     // temperature 0: greedy
  std::optional<int32_t> stop_token_id;  // e.g. EOS; generation ends after emitting it
  int64_t prefill_chunk = 0;             // > 0: evaluate the prompt in chunks of this size
};

struct GenerateStats {
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;  // every step after the first generated token
};

// Called for every evaluated position in order: the prompt's positions, then each generated
// token except the last: `logits` predicts the token after `position`. May be empty.
using LogitsSink = std::function<void(int64_t position, std::span<const float> logits)>;
// Called with each generated token as soon as it is sampled; return false to stop.
using TokenSink = std::function<bool(int32_t token)>;

// A KvStorage of the blocks `tokens` positions need.
StatusOr<KvStorage> KvStorageFor(const ModelConfig& config, int64_t tokens, DType dtype,
                                 int64_t block_size = 16);

// `kv` must hold prompt + max_new_tokens positions (blocks 0, 1, ... in order).
StatusOr<GenerateStats> Generate(const Model& model, KvStorage& kv, std::span<const int32_t> prompt,
                                 const GenerateOptions& options, const LogitsSink& on_logits,
                                 const TokenSink& on_token, ThreadPool* pool);

}  // namespace dsinfer::runner

#endif  // DSINFER_RUNNER_GENERATE_H_
