// Scheduler: decodes, prompt chunks, FIFO admission with prefix reuse, preempt-newest.
#include "scheduler/scheduler.h"

#include <algorithm>
#include <string>
#include <utility>

#include "base/check.h"

namespace dsinfer {

StatusOr<std::unique_ptr<Scheduler>> Scheduler::Create(const SchedulerOptions& options,
                                                       KvCacheManager* kv_cache) {
  if (kv_cache == nullptr) return InvalidArgumentError("scheduler: no KV cache manager");
  if (options.max_num_seqs < 1) {
    return InvalidArgumentError("scheduler: max_num_seqs must be >= 1, got " +
                                std::to_string(options.max_num_seqs));
  }
  // Every running sequence must be able to decode every step, or the newest would starve.
  if (options.max_num_batched_tokens < options.max_num_seqs) {
    return InvalidArgumentError(
        "scheduler: max_num_batched_tokens (" + std::to_string(options.max_num_batched_tokens) +
        ") must be >= max_num_seqs (" + std::to_string(options.max_num_seqs) + ")");
  }
  if (options.max_model_len < 0) {
    return InvalidArgumentError("scheduler: max_model_len must be >= 0");
  }
  return std::unique_ptr<Scheduler>(new Scheduler(options, kv_cache));
}

Scheduler::Scheduler(const SchedulerOptions& options, KvCacheManager* kv_cache)
    : options_(options), kv_cache_(kv_cache) {}

Status Scheduler::AddRequest(SequenceRequest request) {
  const std::string name = "request " + std::to_string(request.id);
  if (sequences_.contains(request.id)) return AlreadyExistsError(name + " already exists");
  if (request.prompt_token_ids.empty()) return InvalidArgumentError(name + ": empty prompt");
  if (request.max_tokens < 1) {
    return InvalidArgumentError(name + ": max_tokens must be >= 1, got " +
                                std::to_string(request.max_tokens));
  }
  const auto prompt_len = static_cast<int64_t>(request.prompt_token_ids.size());
  const int64_t total_len = prompt_len + request.max_tokens;
  if (options_.max_model_len > 0 && total_len > options_.max_model_len) {
    return InvalidArgumentError(name + ": prompt (" + std::to_string(prompt_len) +
                                ") + max_tokens (" + std::to_string(request.max_tokens) +
                                ") exceeds max_model_len " +
                                std::to_string(options_.max_model_len));
  }
  // The last generated token is never fed back, so it needs no KV slot. A sequence that could
  // not fit the pool alone would be preempted forever.
  const int64_t capacity = int64_t{kv_cache_->num_blocks()} * kv_cache_->block_size();
  if (total_len - 1 > capacity) {
    return InvalidArgumentError(name + ": prompt (" + std::to_string(prompt_len) +
                                ") + max_tokens (" + std::to_string(request.max_tokens) +
                                ") exceeds the KV cache capacity of " + std::to_string(capacity) +
                                " tokens");
  }
  auto seq = std::make_unique<Sequence>();
  seq->id = request.id;
  seq->cache_scope = std::move(request.cache_scope);
  seq->token_ids = std::move(request.prompt_token_ids);
  seq->num_prompt_tokens = static_cast<int32_t>(prompt_len);
  seq->max_tokens = request.max_tokens;
  seq->arrival_order = next_arrival_order_++;
  waiting_.push_back(seq.get());
  sequences_.emplace(request.id, std::move(seq));
  return Status::Ok();
}

StepPlan Scheduler::Step() {
  StepPlan plan;
  std::vector<Chunk> chunks;
  int32_t budget = options_.max_num_batched_tokens;

  // Pass 1 gives decodes their token, pass 2 gives prompt chunks what budget is left.
  for (const bool decode_pass : {true, false}) {
    for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
      Sequence* seq = running_[i];
      const int32_t uncomputed = seq->num_uncomputed_tokens();
      // Zero: its sampled token has not been appended yet (nothing to compute).
      if (uncomputed == 0 || (uncomputed == 1) != decode_pass) continue;
      const int32_t n = std::min(uncomputed, budget);
      if (!ReserveOrPreempt(seq, n, chunks, budget, plan)) break;  // it was the newest
      chunks.push_back({.sequence = seq, .num_tokens = n, .is_admission = false});
      budget -= n;
    }
  }

  // Admitting while preempting would hand the blocks just freed to a newer request.
  if (plan.preempted.empty()) {
    while (!waiting_.empty() && budget > 0 &&
           running_.size() < static_cast<size_t>(options_.max_num_seqs)) {
      Sequence* seq = waiting_.front();
      const CachedPrefix prefix = kv_cache_->FindCachedPrefix(seq->token_ids, seq->cache_scope);
      const int32_t n = std::min(seq->num_tokens() - prefix.num_tokens, budget);
      if (!kv_cache_->AllocateSlots(seq->id, seq->cache_scope, seq->token_ids, n, &prefix)) {
        break;  // FIFO: nobody overtakes the head
      }
      waiting_.pop_front();
      seq->status = SequenceStatus::kRunning;
      seq->num_computed_tokens = prefix.num_tokens;
      seq->num_cached_tokens = prefix.num_tokens;
      running_.push_back(seq);
      plan.admitted.push_back(seq->id);
      chunks.push_back({.sequence = seq, .num_tokens = n, .is_admission = true});
      budget -= n;
    }
  }

  plan.sequences.reserve(chunks.size());
  for (const Chunk& chunk : chunks) {
    Sequence& seq = *chunk.sequence;
    ScheduledSequence& out = plan.sequences.emplace_back();
    out.id = seq.id;
    out.first_position = seq.num_computed_tokens;
    const auto first = seq.token_ids.begin() + seq.num_computed_tokens;
    out.token_ids.assign(first, first + chunk.num_tokens);
    out.block_table = kv_cache_->table(seq.id)->block_ids;
    seq.num_computed_tokens += chunk.num_tokens;
    out.samples_token = seq.num_computed_tokens == seq.num_tokens();
    plan.num_batched_tokens += chunk.num_tokens;
  }
  return plan;
}

bool Scheduler::ReserveOrPreempt(Sequence* seq, int32_t n, std::vector<Chunk>& chunks,
                                 int32_t& budget, StepPlan& plan) {
  while (!kv_cache_->AllocateSlots(seq->id, seq->cache_scope, seq->token_ids, n)) {
    Sequence* victim = running_.back();
    running_.pop_back();
    // A victim scheduled earlier in this step (a decode, when a prompt chunk needs blocks)
    // gives its tokens back.
    const auto scheduled = std::find_if(chunks.begin(), chunks.end(),
                                        [victim](const Chunk& c) { return c.sequence == victim; });
    if (scheduled != chunks.end()) {
      budget += scheduled->num_tokens;
      chunks.erase(scheduled);
    }
    Preempt(victim);
    plan.preempted.push_back(victim->id);
    if (victim == seq) return false;
  }
  return true;
}

void Scheduler::Preempt(Sequence* seq) {
  kv_cache_->Free(seq->id);
  seq->status = SequenceStatus::kPreempted;
  seq->num_computed_tokens = 0;
  seq->num_cached_tokens = 0;
  ++seq->num_preemptions;
  // Admission is FIFO, so every sequence ever admitted arrived before every one never
  // admitted: inserting by arrival order keeps the whole queue sorted and puts preempted
  // sequences first.
  const auto pos = std::upper_bound(
      waiting_.begin(), waiting_.end(), seq->arrival_order,
      [](int64_t order, const Sequence* other) { return order < other->arrival_order; });
  waiting_.insert(pos, seq);
}

StatusOr<SequenceStatus> Scheduler::AppendToken(SequenceId id, int32_t token_id) {
  const auto it = sequences_.find(id);
  if (it == sequences_.end()) return NotFoundError("no live sequence " + std::to_string(id));
  Sequence& seq = *it->second;
  if (seq.status != SequenceStatus::kRunning || seq.num_uncomputed_tokens() != 0) {
    return FailedPreconditionError("sequence " + std::to_string(id) +
                                   " did not complete a step that samples (status " +
                                   std::string(SequenceStatusName(seq.status)) + ")");
  }
  seq.token_ids.push_back(token_id);
  if (seq.num_generated_tokens() < seq.max_tokens) return SequenceStatus::kRunning;
  Remove(id);
  return SequenceStatus::kFinished;
}

Status Scheduler::Finish(SequenceId id) {
  const auto it = sequences_.find(id);
  if (it == sequences_.end()) return NotFoundError("no live sequence " + std::to_string(id));
  if (it->second->status != SequenceStatus::kRunning) {
    return FailedPreconditionError("Finish of sequence " + std::to_string(id) +
                                   " which is not running; use Abort");
  }
  Remove(id);
  return Status::Ok();
}

Status Scheduler::Abort(SequenceId id) {
  if (!sequences_.contains(id)) return NotFoundError("no live sequence " + std::to_string(id));
  Remove(id);
  return Status::Ok();
}

void Scheduler::Remove(SequenceId id) {
  const auto it = sequences_.find(id);
  Sequence* seq = it->second.get();
  kv_cache_->Free(id);
  if (seq->status == SequenceStatus::kRunning) {
    running_.erase(std::find(running_.begin(), running_.end(), seq));
  } else {
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), seq));
  }
  sequences_.erase(it);
}

const Sequence* Scheduler::sequence(SequenceId id) const {
  const auto it = sequences_.find(id);
  return it == sequences_.end() ? nullptr : it->second.get();
}

Status Scheduler::CheckInvariants() const {
  DSI_RETURN_IF_ERROR(kv_cache_->CheckInvariants());
  if (running_.size() > static_cast<size_t>(options_.max_num_seqs)) {
    return InternalError("more running sequences than max_num_seqs");
  }
  if (running_.size() + waiting_.size() != sequences_.size() ||
      kv_cache_->num_tables() != running_.size()) {
    return InternalError("queues, sequences and KV tables disagree in size");
  }
  for (const Sequence* seq : running_) {
    const BlockTable* table = kv_cache_->table(seq->id);
    if (seq->status != SequenceStatus::kRunning || table == nullptr ||
        table->num_tokens != seq->num_computed_tokens ||
        seq->num_computed_tokens > seq->num_tokens()) {
      return InternalError("running sequence " + std::to_string(seq->id) + " is inconsistent");
    }
  }
  int64_t previous_order = -1;
  for (const Sequence* seq : waiting_) {
    if ((seq->status != SequenceStatus::kWaiting && seq->status != SequenceStatus::kPreempted) ||
        kv_cache_->table(seq->id) != nullptr || seq->num_computed_tokens != 0) {
      return InternalError("waiting sequence " + std::to_string(seq->id) + " is inconsistent");
    }
    if (seq->arrival_order <= previous_order) {
      return InternalError("waiting queue is not in arrival order");
    }
    previous_order = seq->arrival_order;
  }
  return Status::Ok();
}

}  // namespace dsinfer
