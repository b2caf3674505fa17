// Engine: the continuous-batching loop on its own thread, and the thread-safe client the
// server talks to (DESIGN.md "How a request flows", steps 6-10).
//
// The engine thread owns the Model's KvStorage, the KvCacheManager and the Scheduler. Each
// step it takes new submissions and cancellations from a mutex-protected inbox, asks the
// scheduler for a StepPlan, runs one Model::Forward over every scheduled sequence, samples
// one token per sequence that reached its last known token, detokenises it, checks stop
// strings / EOS / max_tokens, and hands each request its GenerationEvent. Finished, cancelled
// and failed requests free their KV blocks before the next step.
//
// Events are delivered by calling the request's EventSink on the engine thread: the sink must
// be cheap and must not block (post to an I/O thread or a queue). The last event of a request
// has `finished` set; no event follows it. Every request gets exactly one finished event,
// whatever happens (stop, length, cancel, error, engine shutdown).
//
// Thread safety: Engine's public methods may be called from any thread.
#ifndef DSINFER_ENGINE_ENGINE_H_
#define DSINFER_ENGINE_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "sampling/sampling_params.h"
#include "sampling/stop_checker.h"

namespace dsinfer {

class Model;
namespace tokenizer {
class Tokenizer;
}

namespace engine {

struct TokenLogprobs {
  int32_t token = -1;
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top;  // params.top_logprobs best, best first
};

// Everything a request gets back, incrementally.
struct GenerationEvent {
  std::string text;                     // new UTF-8 text since the last event (may be empty)
  std::vector<int32_t> token_ids;       // tokens generated since the last event
  std::vector<TokenLogprobs> logprobs;  // one per token in token_ids, when params.logprobs
  bool finished = false;
  // When finished: why. kStop also covers EOS and stop strings; kCancelled and kError have
  // no OpenAI finish_reason of their own.
  enum class Reason { kNone, kStop, kLength, kCancelled, kError } reason = Reason::kNone;
  std::optional<std::string> stop_string;  // the stop string that ended it, if one did
  Status error;                            // kError: what went wrong
  // Totals so far (final in the finished event).
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;
  int32_t cached_prompt_tokens = 0;  // prefix-cache hit at admission
  double queue_seconds = 0;          // submit -> first scheduled (set once scheduled)
};

using EventSink = std::function<void(GenerationEvent event)>;

struct GenerationRequest {
  std::string request_id;  // unique among live requests (the server's id)
  std::vector<int32_t> prompt_token_ids;
  sampling::SamplingParams params;  // Validate()d by the caller
  std::string cache_scope;          // prefix-cache scope: the tenant, "" for shared
};

// A snapshot for /metrics and /ready.
struct EngineStats {
  int64_t running = 0;
  int64_t waiting = 0;
  int64_t kv_blocks_used = 0;
  int64_t kv_blocks_total = 0;
  int64_t prefix_cache_queries = 0;  // blocks looked up
  int64_t prefix_cache_hits = 0;     // blocks found
  int64_t steps = 0;
  int64_t last_batch_size = 0;    // sequences in the latest step
  int64_t last_batch_tokens = 0;  // tokens in the latest step
  int64_t prompt_tokens_total = 0;
  int64_t generated_tokens_total = 0;
};

struct EngineOptions {
  int64_t kv_cache_bytes = 0;  // 0: kv_cache_fraction of free memory
  double kv_cache_fraction = 0.5;
  int32_t block_size = 16;
  int32_t max_num_batched_tokens = 2048;
  int32_t max_num_seqs = 64;
  int32_t max_queue = 1024;   // waiting requests beyond this: ResourceExhausted (HTTP 429)
  int32_t max_model_len = 0;  // 0: the model's context length
  int threads = 0;            // compute threads; 0: all cores
  // Called on the engine thread after every step with the step's sequences and tokens (for a
  // batch-size histogram); must be cheap and thread-safe with respect to its readers.
  std::function<void(int64_t sequences, int64_t tokens)> on_step;
};

class Engine {
 public:
  // Starts the engine thread. `model` and `tokenizer` must outlive the engine.
  static StatusOr<std::unique_ptr<Engine>> Start(const Model* model,
                                                 const tokenizer::Tokenizer* tokenizer,
                                                 const EngineOptions& options);
  virtual ~Engine() = default;

  // Queues a request. Errors (nothing is queued, the sink is never called): InvalidArgument
  // (empty prompt, a prompt + max_tokens longer than max_model_len, a token id outside the
  // vocabulary), ResourceExhausted (queue full), Unavailable (shutting down), AlreadyExists.
  virtual Status Submit(GenerationRequest request, EventSink sink) = 0;
  // Cancels a live request: its blocks are freed within one step and its sink gets a finished
  // event with Reason::kCancelled. Unknown or finished ids are ignored.
  virtual void Cancel(const std::string& request_id) = 0;
  virtual EngineStats Stats() const = 0;
  // Stops accepting requests; in-flight ones run to completion (graceful drain). Idempotent.
  virtual void Drain() = 0;
  // Drain, then wait until no request is live, then stop the thread.
  virtual void Shutdown() = 0;
  virtual int32_t max_model_len() const = 0;
};

}  // namespace engine
}  // namespace dsinfer

#endif  // DSINFER_ENGINE_ENGINE_H_
