#include "telemetry/server_metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <sstream>
#include <string>

namespace dsinfer::telemetry {
namespace {

// Sample lines of a text exposition: "name{labels}" -> value. Also checks that every sample
// belongs to a family announced by # TYPE.
std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

TEST(ServerMetricsTest, StatusClasses) {
  EXPECT_EQ(StatusClass(200), "2xx");
  EXPECT_EQ(StatusClass(201), "2xx");
  EXPECT_EQ(StatusClass(404), "4xx");
  EXPECT_EQ(StatusClass(429), "4xx");
  EXPECT_EQ(StatusClass(503), "5xx");
  EXPECT_EQ(StatusClass(99), "other");
  EXPECT_EQ(StatusClass(600), "other");
}

TEST(ServerMetricsTest, RequestCountsByRouteAndStatusClass) {
  ServerMetrics metrics;
  metrics.CountRequest("/v1/chat/completions", 200);
  metrics.CountRequest("/v1/chat/completions", 200);
  metrics.CountRequest("/v1/chat/completions", 400);
  metrics.CountRequest("/v1/chat/completions", 429);
  metrics.CountRequest("/health", 200);
  metrics.CountRequest("/v1/completions", 503);
  const auto samples = Samples(metrics.Exposition({}, {}));
  EXPECT_EQ(samples.at(R"(dsinfer_http_requests_total{route="/v1/chat/completions",status="2xx"})"),
            2);
  EXPECT_EQ(samples.at(R"(dsinfer_http_requests_total{route="/v1/chat/completions",status="4xx"})"),
            2);
  EXPECT_EQ(samples.at(R"(dsinfer_http_requests_total{route="/health",status="2xx"})"), 1);
  EXPECT_EQ(samples.at(R"(dsinfer_http_requests_total{route="/v1/completions",status="5xx"})"), 1);
}

// Random latencies: each bucket must hold exactly the observations at or under its bound.
TEST(ServerMetricsTest, HistogramsCountObservationsIntoCumulativeBuckets) {
  ServerMetrics metrics;
  std::mt19937 rng(1234);
  std::lognormal_distribution<double> latency(-4.0, 1.5);  // median ~18 ms
  std::vector<double> values(500);
  double sum = 0;
  for (double& value : values) {
    value = latency(rng);
    sum += value;
    metrics.ObserveTimeToFirstToken(value);
  }
  metrics.ObserveEndToEnd(1.5);
  metrics.ObserveQueueTime(0.002);
  metrics.ObserveInterToken(0.03);
  metrics.ObserveInterToken(0.07);
  const auto samples = Samples(metrics.Exposition({}, {}));
  EXPECT_EQ(samples.at("dsinfer_time_to_first_token_seconds_count"), 500);
  EXPECT_NEAR(samples.at("dsinfer_time_to_first_token_seconds_sum"), sum, 1e-9 * sum);
  for (const double bound : {0.01, 0.1, 1.0}) {
    const auto expected =
        std::count_if(values.begin(), values.end(), [&](double v) { return v <= bound; });
    std::ostringstream key;
    key << "dsinfer_time_to_first_token_seconds_bucket{le=\"" << bound << "\"}";
    EXPECT_EQ(samples.at(key.str()), static_cast<double>(expected)) << key.str();
  }
  EXPECT_EQ(samples.at(R"(dsinfer_time_to_first_token_seconds_bucket{le="+Inf"})"), 500);
  EXPECT_EQ(samples.at("dsinfer_request_duration_seconds_count"), 1);
  EXPECT_EQ(samples.at(R"(dsinfer_request_duration_seconds_bucket{le="1"})"), 0);
  EXPECT_EQ(samples.at(R"(dsinfer_request_duration_seconds_bucket{le="2.5"})"), 1);
  EXPECT_EQ(samples.at("dsinfer_request_queue_seconds_count"), 1);
  EXPECT_EQ(samples.at("dsinfer_inter_token_latency_seconds_count"), 2);
  EXPECT_NEAR(samples.at("dsinfer_inter_token_latency_seconds_sum"), 0.1, 1e-12);
  EXPECT_EQ(samples.at(R"(dsinfer_inter_token_latency_seconds_bucket{le="0.05"})"), 1);
}

TEST(ServerMetricsTest, EngineAndHttpSnapshotsAreExposedAsTheyAre) {
  ServerMetrics metrics;
  const engine::EngineStats stats{.running = 3,
                                  .waiting = 5,
                                  .kv_blocks_used = 41,
                                  .kv_blocks_total = 512,
                                  .prefix_cache_queries = 90,
                                  .prefix_cache_hits = 37,
                                  .steps = 1234,
                                  .last_batch_size = 3,
                                  .last_batch_tokens = 67,
                                  .prompt_tokens_total = 9876,
                                  .generated_tokens_total = 5432};
  const std::string text =
      metrics.Exposition(stats, {.open_connections = 17, .active_requests = 8, .draining = true});
  const auto samples = Samples(text);
  EXPECT_EQ(samples.at("dsinfer_requests_running"), 3);
  EXPECT_EQ(samples.at("dsinfer_requests_waiting"), 5);
  EXPECT_EQ(samples.at("dsinfer_kv_blocks_used"), 41);
  EXPECT_EQ(samples.at("dsinfer_kv_blocks_total"), 512);
  EXPECT_EQ(samples.at("dsinfer_prefix_cache_queries_total"), 90);
  EXPECT_EQ(samples.at("dsinfer_prefix_cache_hits_total"), 37);
  EXPECT_EQ(samples.at("dsinfer_engine_steps_total"), 1234);
  EXPECT_EQ(samples.at("dsinfer_batch_size"), 3);
  EXPECT_EQ(samples.at("dsinfer_batch_tokens"), 67);
  EXPECT_EQ(samples.at("dsinfer_prompt_tokens_total"), 9876);
  EXPECT_EQ(samples.at("dsinfer_generation_tokens_total"), 5432);
  EXPECT_EQ(samples.at("dsinfer_http_connections"), 17);
  EXPECT_EQ(samples.at("dsinfer_http_requests_in_flight"), 8);
  EXPECT_EQ(samples.at("dsinfer_draining"), 1);
  EXPECT_NE(text.find("# TYPE dsinfer_prefix_cache_hits_total counter"), std::string::npos);
  EXPECT_NE(text.find("# TYPE dsinfer_kv_blocks_used gauge"), std::string::npos);
  EXPECT_NE(text.find("# TYPE dsinfer_time_to_first_token_seconds histogram"), std::string::npos);
}

}  // namespace
}  // namespace dsinfer::telemetry
