// Server: the OpenAI-compatible service of `dsinfer serve` (issue 6): the routes, wired to
// the OpenAI mapping (openai_api.h), the engine, the metrics and the access log, on top of
// HttpServer.
//
//   GET  /health                liveness: 200 while the process serves HTTP
//   GET  /ready                 readiness: 200 once the model is loaded, 503 while loading
//                               or draining
//   GET  /metrics               Prometheus text exposition (telemetry/server_metrics.h)
//   GET  /v1/models             the served model; /v1/models/{id} one model or 404
//   POST /v1/chat/completions   streamed (SSE) or whole, GenerationCall
//   POST /v1/completions
//
// HTTP starts before the model is loaded (SetBackend), so that probes get answers during a
// long load. Errors are OpenAI's JSON shape: 400 naming the field, 404 unknown model or path,
// 405, 413, 429 queue full, 503 loading or draining.
//
// Drain (SIGTERM): Drain() turns /ready to 503 and answers new generation requests 503 while
// in-flight ones finish; WaitUntilIdle, then Stop.
//
// Thread safety: public methods may be called from any thread.
#ifndef DSINFER_SERVER_SERVER_H_
#define DSINFER_SERVER_SERVER_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "base/status.h"
#include "engine/engine.h"
#include "server/generation_call.h"
#include "server/http_server.h"
#include "server/openai_api.h"
#include "server/router.h"
#include "telemetry/access_log.h"
#include "telemetry/server_metrics.h"

namespace dsinfer::server {

class Server {
 public:
  // Starts listening. `access_log` may be null and must outlive the server.
  static StatusOr<std::unique_ptr<Server>> Start(const HttpServerOptions& http,
                                                 telemetry::AccessLog* access_log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The loaded model and its engine: from now on the server is ready. Call once. The
  // model's tokenizer and template, and the engine, must outlive the server's Stop.
  void SetBackend(ServedModel model, engine::Engine* engine);

  int port() const { return http_->port(); }
  bool ready() const;

  // Readiness false, new generation requests 503, the engine stops admitting. Idempotent.
  void Drain();
  // True once every in-flight HTTP request finished; false if `timeout` passed first.
  bool WaitUntilIdle(std::chrono::milliseconds timeout);
  // Closes every connection (in-flight requests are cancelled) and joins the I/O threads.
  void Stop();

  telemetry::ServerMetrics& metrics() { return metrics_; }

 private:
  struct Backend {
    ServedModel model;
    engine::Engine* engine = nullptr;
  };

  explicit Server(telemetry::AccessLog* access_log);
  void AddRoutes();
  void Handle(HttpRequest request, const std::shared_ptr<HttpExchange>& exchange);
  void HandleGeneration(ApiKind kind, const std::string& route, HttpRequest& request,
                        const std::shared_ptr<HttpExchange>& exchange);
  void HandleModels(const std::string& route, std::string_view id, HttpRequest& request,
                    const std::shared_ptr<HttpExchange>& exchange);
  // Answers and records (metrics, access log) a response that is not a generation.
  void Reply(const HttpRequest& request, std::string_view route,
             const std::shared_ptr<HttpExchange>& exchange, HttpResponse response);
  void ReplyError(const HttpRequest& request, std::string_view route,
                  const std::shared_ptr<HttpExchange>& exchange, const ApiError& error);
  std::string NextRequestId();
  const Backend* backend() const { return backend_ptr_.load(std::memory_order_acquire); }

  telemetry::AccessLog* access_log_;
  telemetry::ServerMetrics metrics_;
  Router router_;
  std::unique_ptr<Backend> backend_;
  std::atomic<const Backend*> backend_ptr_{nullptr};
  std::atomic<bool> draining_{false};
  std::atomic<uint64_t> next_request_{0};
  uint64_t id_prefix_ = 0;  // random per process: ids do not repeat across restarts
  int64_t max_body_bytes_ = 0;
  std::unique_ptr<HttpServer> http_;  // last: stopped before the rest goes
};

}  // namespace dsinfer::server

#endif  // DSINFER_SERVER_SERVER_H_
