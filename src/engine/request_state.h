// RequestState: what the engine thread keeps per live request besides the scheduler's
// Sequence: the client's sink, sampling state (RNG, generated ids), the streaming detokeniser
// and the stop checker, and the timings that become metrics.
#ifndef DSINFER_ENGINE_REQUEST_STATE_H_
#define DSINFER_ENGINE_REQUEST_STATE_H_

#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "engine/engine.h"
#include "sampling/request_rng.h"
#include "sampling/stop_checker.h"
#include "tokenizer/streaming_detokenizer.h"

namespace dsinfer::engine {

struct RequestState {
  RequestState(GenerationRequest request, EventSink event_sink,
               const tokenizer::Tokenizer* tokenizer, std::optional<int32_t> eos)
      : request_id(std::move(request.request_id)),
        sink(std::move(event_sink)),
        params(std::move(request.params)),
        prompt(std::move(request.prompt_token_ids)),
        rng(params.seed),
        detokenizer(tokenizer),
        stop(params, params.ignore_eos ? std::nullopt : eos) {}

  std::string request_id;
  EventSink sink;
  sampling::SamplingParams params;
  std::vector<int32_t> prompt;
  std::vector<int32_t> generated;
  sampling::RequestRng rng;
  tokenizer::StreamingDetokenizer detokenizer;
  sampling::StopChecker stop;
  Stopwatch since_submit;
  std::optional<double> queue_seconds;  // set when first scheduled
  int32_t cached_prompt_tokens = 0;

  // A finished event carrying the totals.
  GenerationEvent Final(GenerationEvent::Reason reason, Status error = Status::Ok()) const {
    GenerationEvent e = Totals();
    e.finished = true;
    e.reason = reason;
    e.error = std::move(error);
    return e;
  }
  GenerationEvent Totals() const {
    GenerationEvent e;
    e.prompt_tokens = static_cast<int32_t>(prompt.size());
    e.completion_tokens = static_cast<int32_t>(generated.size());
    e.cached_prompt_tokens = cached_prompt_tokens;
    e.queue_seconds = queue_seconds.value_or(since_submit.ElapsedSeconds());
    return e;
  }
};

}  // namespace dsinfer::engine

#endif  // DSINFER_ENGINE_REQUEST_STATE_H_
