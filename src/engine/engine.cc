// The engine thread: inbox -> scheduler step -> one forward -> sample -> events.
#include "engine/engine.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "engine/request_state.h"
#include "kv_cache/kv_cache_manager.h"
#include "model/kv_storage.h"
#include "model/model.h"
#include "platform/memory_info.h"
#include "platform/thread_pool.h"
#include "runner/step_batch.h"
#include "sampling/sampler.h"
#include "scheduler/scheduler.h"
#include "tokenizer/tokenizer.h"

namespace dsinfer::engine {

namespace {

class EngineImpl final : public Engine {
 public:
  EngineImpl(const Model* model, const tokenizer::Tokenizer* tokenizer,
             const EngineOptions& options, int threads)
      : model_(model),
        tokenizer_(tokenizer),
        options_(options),
        pool_(threads),
        sampler_(static_cast<int32_t>(model->vocab_size())) {}

  ~EngineImpl() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      draining_ = true;
      abort_all_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  Status Init() {
    const ModelConfig& config = model_->config();
    const DType kv_type = DType::kF16;
    DSI_ASSIGN_OR_RETURN(const int64_t block_bytes,
                         KvStorage::BytesPerBlock(config, options_.block_size, kv_type));
    int64_t budget = options_.kv_cache_bytes;
    if (budget <= 0) {
      budget = static_cast<int64_t>(static_cast<double>(AvailableMemoryBytes()) *
                                    options_.kv_cache_fraction);
    }
    int64_t max_len =
        options_.max_model_len > 0 ? options_.max_model_len : config.max_position_embeddings;
    // Never more blocks than max_num_seqs full-length sequences need.
    const int64_t useful = (max_len + options_.block_size - 1) / options_.block_size *
                           std::max<int64_t>(1, options_.max_num_seqs);
    const int64_t blocks = std::min<int64_t>({budget / block_bytes, useful, INT32_MAX});
    if (blocks < 1) {
      return ResourceExhaustedError(fmt::format(
          "KV cache budget of {} bytes is less than one block ({} bytes)", budget, block_bytes));
    }
    DSI_ASSIGN_OR_RETURN(kv_, KvStorage::Create(config, {.n_blocks = blocks,
                                                         .block_size = options_.block_size,
                                                         .dtype = kv_type}));
    max_model_len_ = static_cast<int32_t>(std::min(max_len, blocks * options_.block_size));
    DSI_ASSIGN_OR_RETURN(kv_cache_,
                         KvCacheManager::Create({.num_blocks = static_cast<int32_t>(blocks),
                                                 .block_size = options_.block_size,
                                                 .enable_prefix_caching = true,
                                                 .hash_seed = ""}));
    DSI_ASSIGN_OR_RETURN(
        scheduler_, Scheduler::Create({.max_num_batched_tokens = options_.max_num_batched_tokens,
                                       .max_num_seqs = options_.max_num_seqs,
                                       .max_model_len = max_model_len_},
                                      kv_cache_.get()));
    stats_.kv_blocks_total = blocks;
    thread_ = std::thread([this] { Loop(); });
    return Status::Ok();
  }

  Status Submit(GenerationRequest request, EventSink sink) override {
    if (request.prompt_token_ids.empty()) return InvalidArgumentError("the prompt is empty");
    for (const int32_t id : request.prompt_token_ids) {
      if (id < 0 || id >= model_->vocab_size()) {
        return InvalidArgumentError(fmt::format(
            "prompt token id {} is outside the vocabulary of {}", id, model_->vocab_size()));
      }
    }
    const auto prompt_len = static_cast<int64_t>(request.prompt_token_ids.size());
    const int64_t max_tokens =
        request.params.max_tokens.value_or(static_cast<int32_t>(max_model_len_ - prompt_len));
    if (prompt_len + std::max<int64_t>(max_tokens, 1) > max_model_len_) {
      return InvalidArgumentError(fmt::format(
          "the prompt ({} tokens) plus max_tokens ({}) exceeds the model's context of {} tokens",
          prompt_len, max_tokens, max_model_len_));
    }
    request.params.max_tokens = static_cast<int32_t>(max_tokens);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (draining_) return UnavailableError("the server is draining");
      if (static_cast<int64_t>(live_ids_.size()) >=
          int64_t{options_.max_num_seqs} + options_.max_queue) {
        return ResourceExhaustedError("the request queue is full");
      }
      if (!live_ids_.insert(request.request_id).second) {
        return AlreadyExistsError(fmt::format("request {} is already running", request.request_id));
      }
      inbox_.push_back(std::make_unique<RequestState>(std::move(request), std::move(sink),
                                                      tokenizer_, tokenizer_->eos_id()));
    }
    wake_.notify_one();
    return Status::Ok();
  }

  void Cancel(const std::string& request_id) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (live_ids_.count(request_id) == 0) return;
      cancels_.push_back(request_id);
    }
    wake_.notify_one();
  }

  EngineStats Stats() const override {
    std::lock_guard<std::mutex> lock(stats_mu_);
    return stats_;
  }

  void Drain() override {
    std::lock_guard<std::mutex> lock(mu_);
    draining_ = true;
  }

  void Shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      draining_ = true;
      stop_when_idle_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  int32_t max_model_len() const override { return max_model_len_; }

 private:
  void Loop() {
    for (;;) {
      std::vector<std::unique_ptr<RequestState>> arrivals;
      std::vector<std::string> cancels;
      bool abort_all = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] {
          return !inbox_.empty() || !cancels_.empty() || abort_all_ || stop_when_idle_ ||
                 scheduler_->has_unfinished();
        });
        arrivals.swap(inbox_);
        cancels.swap(cancels_);
        abort_all = abort_all_;
        if ((abort_all || stop_when_idle_) && arrivals.empty() && live_.empty()) return;
      }
      for (auto& state : arrivals) Admit(std::move(state));
      for (const std::string& id : cancels) CancelNow(id, GenerationEvent::Reason::kCancelled);
      if (abort_all) {
        std::vector<std::string> ids;
        for (const auto& [seq, state] : live_) ids.push_back(state->request_id);
        for (const std::string& id : ids) CancelNow(id, GenerationEvent::Reason::kCancelled);
        RefreshGauges();
        continue;
      }
      if (scheduler_->has_unfinished()) RunStep();
      RefreshGauges();
    }
  }

  void Admit(std::unique_ptr<RequestState> state) {
    const SequenceId id = next_sequence_id_++;
    const Status s = scheduler_->AddRequest({.id = id,
                                             .prompt_token_ids = state->prompt,
                                             .max_tokens = *state->params.max_tokens,
                                             .cache_scope = ""});
    if (!s.ok()) {
      Finish(*state, state->Final(GenerationEvent::Reason::kError, s));
      return;
    }
    by_request_id_[state->request_id] = id;
    live_[id] = std::move(state);
  }

  void CancelNow(const std::string& request_id, GenerationEvent::Reason reason,
                 Status error = Status::Ok()) {
    auto it = by_request_id_.find(request_id);
    if (it == by_request_id_.end()) return;
    const SequenceId id = it->second;
    (void)scheduler_->Abort(id);
    RequestState& state = *live_.at(id);
    GenerationEvent e = state.Final(reason, std::move(error));
    e.text = std::string(state.stop.Flush());
    Finish(state, std::move(e));
    Remove(id);
  }

  // Delivers the last event and forgets the request id.
  void Finish(RequestState& state, GenerationEvent event) {
    state.sink(std::move(event));
    std::lock_guard<std::mutex> lock(mu_);
    live_ids_.erase(state.request_id);
  }

  void Remove(SequenceId id) {
    auto it = live_.find(id);
    if (it == live_.end()) return;
    by_request_id_.erase(it->second->request_id);
    live_.erase(it);
  }

  void RunStep() {
    const StepPlan plan = scheduler_->Step();
    for (const ScheduledSequence& s : plan.sequences) {
      RequestState& state = *live_.at(s.id);
      if (!state.queue_seconds.has_value()) {
        state.queue_seconds = state.since_submit.ElapsedSeconds();
        state.cached_prompt_tokens = s.first_position;
      }
    }
    if (plan.empty()) return;
    batch_.Build(plan);
    const ForwardBatch batch = batch_.batch();
    logits_.resize(batch.logit_rows.size() * static_cast<size_t>(model_->vocab_size()));
    const Status forward = model_->Forward(batch, kv_, logits_, &pool_);
    if (!forward.ok()) {
      for (const ScheduledSequence& s : plan.sequences) {
        CancelNow(live_.at(s.id)->request_id, GenerationEvent::Reason::kError, forward);
      }
      return;
    }
    // Most steps are followed by another; the workers wait for it spinning rather than asleep.
    pool_.ExpectWorkWithin(runner::kNextStepWithin);
    // Prompt positions computed this step (recomputed ones after a preemption included),
    // counted before sampling can finish and forget a sequence.
    int64_t prompt = 0;
    for (const ScheduledSequence& s : plan.sequences) {
      const auto prompt_len = static_cast<int64_t>(live_.at(s.id)->prompt.size());
      const int64_t end = std::min<int64_t>(s.first_position + s.num_tokens(), prompt_len);
      prompt += std::max<int64_t>(0, end - s.first_position);
    }
    int64_t generated = 0;
    const auto vocab = static_cast<size_t>(model_->vocab_size());
    for (size_t r = 0; r < batch_.sampled_sequences().size(); ++r) {
      const ScheduledSequence& s = plan.sequences[batch_.sampled_sequences()[r]];
      Sample(s.id, std::span<const float>(logits_).subspan(r * vocab, vocab));
      ++generated;
    }
    UpdateStats(plan, prompt, generated);
    if (options_.on_step)
      options_.on_step(static_cast<int64_t>(plan.sequences.size()), plan.num_batched_tokens);
  }

  void Sample(SequenceId id, std::span<const float> logits) {
    RequestState& state = *live_.at(id);
    sampling::SampledToken sampled;
    const Status s = sampler_.Sample(logits, {.prompt = state.prompt, .generated = state.generated},
                                     state.params, &state.rng, &sampled);
    if (!s.ok()) {
      CancelNow(state.request_id, GenerationEvent::Reason::kError, s);
      return;
    }
    state.generated.push_back(sampled.token);
    StatusOr<SequenceStatus> status = scheduler_->AppendToken(id, sampled.token);
    StatusOr<std::string> piece = state.detokenizer.Feed(sampled.token);
    const sampling::StopUpdate update =
        state.stop.Append(sampled.token, piece.ok() ? std::string_view(*piece) : "");
    GenerationEvent e = state.Totals();
    e.text = std::string(update.text);
    e.token_ids = {sampled.token};
    if (state.params.logprobs) {
      TokenLogprobs lp{.token = sampled.token, .logprob = sampled.logprob, .top = {}};
      for (const sampling::TokenLogprob& t : sampled.top_logprobs) {
        lp.top.emplace_back(t.token, t.logprob);
      }
      e.logprobs.push_back(std::move(lp));
    }
    const bool length = status.ok() && *status == SequenceStatus::kFinished;
    if (!update.finished() && !length) {
      state.sink(std::move(e));
      return;
    }
    e.finished = true;
    if (update.finished()) {
      e.reason = *update.finish_reason == sampling::FinishReason::kLength
                     ? GenerationEvent::Reason::kLength
                     : GenerationEvent::Reason::kStop;
      if (update.stop_string.has_value()) e.stop_string = std::string(*update.stop_string);
      if (!length) (void)scheduler_->Finish(id);
    } else {
      e.reason = GenerationEvent::Reason::kLength;
      e.text += state.stop.Flush();
    }
    Finish(state, std::move(e));
    Remove(id);
  }

  // Gauges, after every change of the request set (so a cancel shows before the next step).
  void RefreshGauges() {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.running = static_cast<int64_t>(scheduler_->num_running());
    stats_.waiting = static_cast<int64_t>(scheduler_->num_waiting());
    stats_.kv_blocks_used = kv_cache_->num_used_blocks();
    const PrefixCacheStats& pc = kv_cache_->prefix_cache_stats();
    stats_.prefix_cache_queries = pc.queries;
    stats_.prefix_cache_hits = pc.hits;
  }

  void UpdateStats(const StepPlan& plan, int64_t prompt, int64_t generated) {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.steps;
    stats_.last_batch_size = static_cast<int64_t>(plan.sequences.size());
    stats_.last_batch_tokens = plan.num_batched_tokens;
    stats_.prompt_tokens_total += prompt;
    stats_.generated_tokens_total += generated;
  }

  const Model* model_;
  const tokenizer::Tokenizer* tokenizer_;
  const EngineOptions options_;
  int32_t max_model_len_ = 0;

  // Inbox, shared with client threads.
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::unique_ptr<RequestState>> inbox_;
  std::vector<std::string> cancels_;
  std::unordered_set<std::string> live_ids_;  // submitted and not yet finished
  bool draining_ = false;
  bool stop_when_idle_ = false;
  bool abort_all_ = false;

  mutable std::mutex stats_mu_;
  EngineStats stats_;

  // Engine-thread state.
  ThreadPool pool_;
  KvStorage kv_;
  std::unique_ptr<KvCacheManager> kv_cache_;
  std::unique_ptr<Scheduler> scheduler_;
  sampling::Sampler sampler_;
  runner::StepBatch batch_;
  std::vector<float> logits_;
  SequenceId next_sequence_id_ = 1;
  std::unordered_map<SequenceId, std::unique_ptr<RequestState>> live_;
  std::unordered_map<std::string, SequenceId> by_request_id_;
  std::thread thread_;
};

}  // namespace

StatusOr<std::unique_ptr<Engine>> Engine::Start(const Model* model,
                                                const tokenizer::Tokenizer* tokenizer,
                                                const EngineOptions& options) {
  const int threads = options.threads > 0
                          ? options.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  auto engine = std::make_unique<EngineImpl>(model, tokenizer, options, threads);
  DSI_RETURN_IF_ERROR(engine->Init());
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace dsinfer::engine
