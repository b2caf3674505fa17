// ServerMetrics: the Prometheus metrics of one `dsinfer serve` process and their text
// exposition for GET /metrics (DESIGN.md "operations").
//
// Two kinds of series:
//  * Recorded by the server as requests happen (prometheus-cpp families in one Registry):
//    request counts by route and status class, and the latency histograms (end-to-end, queue,
//    time to first token, inter-token).
//  * Snapshots taken at scrape time from engine::EngineStats and the HTTP server's counters
//    (engine_stats_families.h): running / waiting requests, KV blocks, prefix-cache hits and
//    queries, token totals, batch size. They are read, not mirrored, so a scrape is always
//    consistent with the engine's own numbers and nothing needs updating per step.
//
// Every name starts with "dsinfer_"; label values are bounded (routes are the server's fixed
// route names, status is a class "2xx".."5xx"), so cardinality cannot grow with traffic.
//
// Thread safety: every method may be called from any thread (prometheus-cpp metrics are
// atomic; family lookups are mutex-protected inside the library).
#ifndef DSINFER_TELEMETRY_SERVER_METRICS_H_
#define DSINFER_TELEMETRY_SERVER_METRICS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "telemetry/engine_stats_families.h"

namespace prometheus {
class Counter;
template <typename T>
class Family;
class Histogram;
class Registry;
}  // namespace prometheus

namespace dsinfer::telemetry {

// "2xx" for 200..299 and so on; "other" outside 100..599.
std::string_view StatusClass(int http_status);

class ServerMetrics {
 public:
  ServerMetrics();
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // One finished HTTP exchange: dsinfer_http_requests_total{route, status="2xx"}.
  void CountRequest(std::string_view route, int http_status);

  // Generation requests (chat and completions), in seconds.
  void ObserveEndToEnd(double seconds);          // request received -> last byte queued
  void ObserveQueueTime(double seconds);         // submitted -> first scheduled
  void ObserveTimeToFirstToken(double seconds);  // request received -> first token
  void ObserveInterToken(double seconds);        // between consecutive tokens of one request
  void ObserveBatchSize(int64_t sequences);      // one engine step (EngineOptions::on_step)

  // The text exposition (format 0.0.4) of every series, the snapshot ones from `engine` and
  // `http`.
  std::string Exposition(const engine::EngineStats& engine, const HttpStats& http) const;

 private:
  std::unique_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Histogram* end_to_end_ = nullptr;
  prometheus::Histogram* queue_time_ = nullptr;
  prometheus::Histogram* time_to_first_token_ = nullptr;
  prometheus::Histogram* inter_token_ = nullptr;
  prometheus::Histogram* batch_size_ = nullptr;
};

}  // namespace dsinfer::telemetry

#endif  // DSINFER_TELEMETRY_SERVER_METRICS_H_
