// Scheduler: continuous batching over a KvCacheManager. Every step decides how many tokens
// each request computes; it never touches tensors.
//
// Step() policy, in order, under max_num_batched_tokens and max_num_seqs:
//   1. decodes: every running sequence with one uncomputed token gets it;
//   2. prompt chunks: running sequences still prefilling (or recomputing) get
//      min(uncomputed, remaining budget) tokens, in admission order (chunked prefill);
//   3. admission, only if nothing was preempted this step: waiting sequences in queue order
//      while a sequence slot, budget and blocks last; prefix-cache hits are skipped (the first
//      uncached token is the first computed). A head that does not fit blocks the queue: FIFO.
// When a running sequence cannot get its blocks, the newest running sequence is preempted
// (recompute: its blocks are freed, it goes to the front of the queue with
// num_computed_tokens = 0, and any tokens it was given this step are taken back), repeatedly,
// possibly the sequence itself.
//
// Why this never starves: the oldest running sequence is never the victim while another runs,
// fits the pool alone (AddRequest rejects longer ones), and always gets >= 1 token per step
// (max_num_batched_tokens >= max_num_seqs), so it finishes within a bounded number of steps;
// admission is FIFO and preempted sequences re-enter ahead of every never-admitted one.
//
// Usage per step (engine thread): plan = Step(); run the model on plan; for each sequence with
// samples_token, AppendToken(id, sampled) (which finishes it at max_tokens) or Finish(id) on a
// stop condition. Abort(id) frees a sequence's blocks immediately (client went away).
//
// Thread safety: none; the engine thread owns the scheduler and its KvCacheManager.
#ifndef DSINFER_SCHEDULER_SCHEDULER_H_
#define DSINFER_SCHEDULER_SCHEDULER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "kv_cache/kv_cache_manager.h"
#include "scheduler/sequence.h"
#include "scheduler/step_plan.h"

namespace dsinfer {

struct SchedulerOptions {
  int32_t max_num_batched_tokens = 2048;  // tokens computed per step, all sequences together
  int32_t max_num_seqs = 64;              // running sequences at once; <= max_num_batched_tokens
  int32_t max_model_len = 0;              // prompt + max_tokens limit; 0: what the pool holds
};

class Scheduler {
 public:
  // `kv_cache` must outlive the scheduler and be used by no one else.
  static StatusOr<std::unique_ptr<Scheduler>> Create(const SchedulerOptions& options,
                                                     KvCacheManager* kv_cache);

  // Queues a request at the back. InvalidArgument for an empty prompt, max_tokens < 1 or a
  // length the pool (or max_model_len) cannot hold; AlreadyExists for a live id.
  Status AddRequest(SequenceRequest request);

  StepPlan Step();

  // Appends the token sampled for `id` after a step that had samples_token for it. Returns
  // kFinished when that was the max_tokens-th generated token (the sequence is then removed and
  // its blocks freed), else kRunning.
  StatusOr<SequenceStatus> AppendToken(SequenceId id, int32_t token_id);

  // A stop condition ended `id` (EOS, stop string): frees its blocks and removes it.
  Status Finish(SequenceId id);
  // Cancels `id` in any state: its blocks are freed now, before the next step.
  Status Abort(SequenceId id);

  // nullptr once finished or aborted.
  const Sequence* sequence(SequenceId id) const;
  size_t num_waiting() const { return waiting_.size(); }
  size_t num_running() const { return running_.size(); }
  bool has_unfinished() const { return !sequences_.empty(); }
  const KvCacheManager& kv_cache() const { return *kv_cache_; }

  // Cross-checks queues, sequence counters and KV tables (plus the KV invariants).
  Status CheckInvariants() const;

 private:
  struct Chunk {
    Sequence* sequence;
    int32_t num_tokens;
    bool is_admission;
  };

  Scheduler(const SchedulerOptions& options, KvCacheManager* kv_cache);

  // Reserves KV for `n` more tokens of running `seq`, preempting the newest running sequences
  // as needed. False if `seq` itself was preempted.
  bool ReserveOrPreempt(Sequence* seq, int32_t n, std::vector<Chunk>& chunks, int32_t& budget,
                        StepPlan& plan);
  void Preempt(Sequence* seq);
  void Remove(SequenceId id);

  const SchedulerOptions options_;
  KvCacheManager* const kv_cache_;
  int64_t next_arrival_order_ = 0;
  std::unordered_map<SequenceId, std::unique_ptr<Sequence>> sequences_;
  std::vector<Sequence*> running_;  // admission order; the back is the preemption victim
  std::deque<Sequence*> waiting_;   // preempted first (oldest first), then arrivals
};

}  // namespace dsinfer

#endif  // DSINFER_SCHEDULER_SCHEDULER_H_
