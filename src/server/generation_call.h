// GenerationCall: one chat or completion request from Engine::Submit to its last byte
// (DESIGN.md "How a request flows", steps 6-9, the server's side).
//
// The engine calls the call's sink on the engine thread; the call turns each event into
// OpenAI JSON (ResponseBuilder) and hands it to the HttpExchange, which posts it to the
// connection's strand, so the engine thread never waits on a socket. Events that arrive
// before the response was opened (the engine can be quicker than Submit's return) are held
// and replayed in order. A client that goes away cancels the engine request.
//
// When the request finishes it records the latency histograms (time to first token,
// inter-token, queue, end-to-end), the request count and one access-log line.
//
// Thread safety: a mutex serialises the engine thread's events with the opening on the I/O
// thread.
#ifndef DSINFER_SERVER_GENERATION_CALL_H_
#define DSINFER_SERVER_GENERATION_CALL_H_

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "engine/engine.h"
#include "server/http_exchange.h"
#include "server/openai_api.h"
#include "telemetry/access_log.h"
#include "telemetry/server_metrics.h"

namespace dsinfer::server {

// What calls borrow; everything outlives every call.
struct GenerationContext {
  engine::Engine* engine = nullptr;
  const ServedModel* model = nullptr;
  telemetry::ServerMetrics* metrics = nullptr;
  telemetry::AccessLog* access_log = nullptr;
};

class GenerationCall : public std::enable_shared_from_this<GenerationCall> {
 public:
  // Submits `parsed` as `request_id` and answers through `exchange`: an SSE stream or one JSON
  // response, or the error if Submit refuses it (429 queue full, 503 draining, 400).
  static void Run(const GenerationContext& context, std::string route, std::string request_id,
                  ParsedRequest parsed, const HttpRequest& request,
                  const std::shared_ptr<HttpExchange>& exchange);

  GenerationCall(const GenerationContext& context, std::string route, std::string request_id,
                 const ParsedRequest& parsed, const HttpRequest& request,
                 std::shared_ptr<HttpExchange> exchange);

 private:
  void OnEvent(engine::GenerationEvent event);
  void Open();
  void Deliver(const engine::GenerationEvent& event);  // mutex_ held
  void Record(int status, const engine::GenerationEvent* last);

  GenerationContext context_;
  std::string route_;
  std::string request_id_;
  std::string method_;
  std::string remote_;
  std::string model_name_;
  bool stream_;
  MonotonicClock::time_point arrived_;
  std::chrono::system_clock::time_point arrived_wall_;

  std::mutex mutex_;
  ResponseBuilder builder_;                                // guarded by mutex_
  std::shared_ptr<HttpExchange> exchange_;                 // guarded by mutex_; reset when done
  bool open_ = false;                                      // guarded by mutex_
  std::vector<engine::GenerationEvent> held_;              // guarded by mutex_; events before Open
  std::optional<MonotonicClock::time_point> first_token_;  // guarded by mutex_
  MonotonicClock::time_point last_token_;                  // guarded by mutex_
};

}  // namespace dsinfer::server

#endif  // DSINFER_SERVER_GENERATION_CALL_H_
