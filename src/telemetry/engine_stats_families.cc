#include "telemetry/engine_stats_families.h"

#include <string>
#include <utility>

namespace dsinfer::telemetry {
namespace {

prometheus::MetricFamily Gauge(std::string name, std::string help, double value) {
  prometheus::MetricFamily family{
      .name = std::move(name), .help = std::move(help), .type = prometheus::MetricType::Gauge};
  prometheus::ClientMetric metric;
  metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
  return family;
}

prometheus::MetricFamily Counter(std::string name, std::string help, double value) {
  prometheus::MetricFamily family{
      .name = std::move(name), .help = std::move(help), .type = prometheus::MetricType::Counter};
  prometheus::ClientMetric metric;
  metric.counter.value = value;
  family.metric.push_back(std::move(metric));
  return family;
}

double D(int64_t value) { return static_cast<double>(value); }

}  // namespace

std::vector<prometheus::MetricFamily> EngineStatsFamilies(const engine::EngineStats& stats) {
  return {
      Gauge("dsinfer_requests_running", "Requests in the running batch", D(stats.running)),
      Gauge("dsinfer_requests_waiting", "Requests queued, not yet scheduled", D(stats.waiting)),
      Gauge("dsinfer_kv_blocks_used", "KV-cache blocks held by live requests",
            D(stats.kv_blocks_used)),
      Gauge("dsinfer_kv_blocks_total", "KV-cache blocks in the pool", D(stats.kv_blocks_total)),
      Counter("dsinfer_prefix_cache_queries_total", "Prompt blocks looked up in the prefix cache",
              D(stats.prefix_cache_queries)),
      Counter("dsinfer_prefix_cache_hits_total", "Prompt blocks found in the prefix cache",
              D(stats.prefix_cache_hits)),
      Counter("dsinfer_prompt_tokens_total", "Prompt tokens of admitted requests",
              D(stats.prompt_tokens_total)),
      Counter("dsinfer_generation_tokens_total", "Tokens generated",
              D(stats.generated_tokens_total)),
      Counter("dsinfer_engine_steps_total", "Engine steps (one forward pass each)", D(stats.steps)),
      Gauge("dsinfer_batch_size", "Sequences in the latest engine step", D(stats.last_batch_size)),
      Gauge("dsinfer_batch_tokens", "Tokens in the latest engine step", D(stats.last_batch_tokens)),
  };
}

std::vector<prometheus::MetricFamily> HttpStatsFamilies(const HttpStats& stats) {
  return {
      Gauge("dsinfer_http_connections", "Open HTTP connections", D(stats.open_connections)),
      Gauge("dsinfer_http_requests_in_flight", "HTTP requests not yet fully answered",
            D(stats.active_requests)),
      Gauge("dsinfer_draining", "1 while the server drains before exiting (SIGTERM)",
            stats.draining ? 1.0 : 0.0),
  };
}

}  // namespace dsinfer::telemetry
