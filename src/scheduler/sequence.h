// Sequence: one request's state as the scheduler sees it (token ids and counters, no tensors).
//
// token_ids holds the prompt followed by every token sampled so far. num_computed_tokens counts
// the leading positions whose KV is written (or is being written by the current step); the
// rest still have to be computed. A running sequence in decode has exactly one uncomputed
// token (the last sampled one); after preemption num_computed_tokens drops to 0 and the whole
// of token_ids (prompt and output) is computed again, minus what the prefix cache still holds.
//
// Thread safety: a value; owned by the Scheduler on the engine thread.
#ifndef DSINFER_SCHEDULER_SEQUENCE_H_
#define DSINFER_SCHEDULER_SEQUENCE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kv_cache/kv_cache_manager.h"

namespace dsinfer {

enum class SequenceStatus {
  kWaiting,    // queued, never admitted
  kRunning,    // holds KV blocks and is scheduled every step
  kPreempted,  // lost its blocks under memory pressure; queued at the front, will recompute
  kFinished,   // reached max_tokens or was finished/aborted; its blocks are freed
};

std::string_view SequenceStatusName(SequenceStatus status);
inline bool IsFinished(SequenceStatus status) { return status == SequenceStatus::kFinished; }

// What a caller submits.
struct SequenceRequest {
  SequenceId id = 0;
  std::vector<int32_t> prompt_token_ids;
  int32_t max_tokens = 16;  // generated tokens after which the sequence finishes
  std::string cache_scope;  // prefix-cache scope: the tenant id, or "" for shared
};

struct Sequence {
  SequenceId id = 0;
  std::string cache_scope;
  std::vector<int32_t> token_ids;  // prompt, then generated tokens
  int32_t num_prompt_tokens = 0;
  int32_t max_tokens = 0;
  int64_t arrival_order = 0;  // FIFO rank, assigned by the scheduler
  SequenceStatus status = SequenceStatus::kWaiting;
  int32_t num_computed_tokens = 0;
  int32_t num_cached_tokens = 0;  // prefix-cache hit at the latest admission
  int32_t num_preemptions = 0;

  int32_t num_tokens() const { return static_cast<int32_t>(token_ids.size()); }
  int32_t num_generated_tokens() const { return num_tokens() - num_prompt_tokens; }
  int32_t num_uncomputed_tokens() const { return num_tokens() - num_computed_tokens; }
};

}  // namespace dsinfer

#endif  // DSINFER_SCHEDULER_SEQUENCE_H_
