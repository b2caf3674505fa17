// StepPlan: the one plain struct the scheduler hands the runner each step.
//
// For every scheduled sequence: which tokens to compute, at which positions, into which KV
// blocks, and whether the step ends at the sequence's last known token (then the runner
// produces logits for that row and the sampler picks the next token). Prefill, chunked prefill,
// decode and recompute after preemption are all the same shape: a run of consecutive positions.
//
//   sequence A (decode):   positions [37, 38)      token_ids = {last sampled}  samples_token
//   sequence B (chunk):    positions [512, 1024)   token_ids = prompt[512:1024]
//   sequence C (admitted): positions [32, 100)     (0-31 were prefix-cache hits) samples_token
//
// Thread safety: a value.
#ifndef DSINFER_SCHEDULER_STEP_PLAN_H_
#define DSINFER_SCHEDULER_STEP_PLAN_H_

#include <cstdint>
#include <vector>

#include "kv_cache/kv_cache_manager.h"

namespace dsinfer {

struct ScheduledSequence {
  SequenceId id = 0;
  int32_t first_position = 0;        // token_ids[i] sits at position first_position + i
  std::vector<int32_t> token_ids;    // the tokens to compute this step, in position order
  std::vector<BlockId> block_table;  // the sequence's whole table, covering every position
  bool samples_token = false;        // the last token computed is the sequence's last known one

  int32_t num_tokens() const { return static_cast<int32_t>(token_ids.size()); }
  int32_t position(int32_t i) const { return first_position + i; }
};

struct StepPlan {
  // Decodes first, then prompt chunks of running sequences, then newly admitted ones; within
  // each group in admission order.
  std::vector<ScheduledSequence> sequences;
  int32_t num_batched_tokens = 0;     // sum of num_tokens(); <= max_num_batched_tokens
  std::vector<SequenceId> admitted;   // entered running this step (new or resumed)
  std::vector<SequenceId> preempted;  // lost their blocks this step, newest first

  bool empty() const { return sequences.empty(); }
};

}  // namespace dsinfer

#endif  // DSINFER_SCHEDULER_STEP_PLAN_H_
