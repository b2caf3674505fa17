#include "telemetry/server_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <span>
#include <utility>
#include <vector>

namespace dsinfer::telemetry {
namespace {

// Bucket bounds in seconds, spanning what a CPU server sees: TTFT from a cached 10-token
// prompt (ms) to a 100k-token prefill (minutes); inter-token from a tiny model (~1 ms) to a
// big MoE on few cores (~1 s). Close to vLLM's, so dashboards carry over.
constexpr double kEndToEndBuckets[] = {0.05, 0.1, 0.25, 0.5, 1,   2.5, 5,   10,
                                       20,   40,  80,   160, 320, 640, 1280};
constexpr double kQueueBuckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                    1,     2.5,   5,    10,    20,   40,  80,   160};
constexpr double kFirstTokenBuckets[] = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08,
                                         0.1,   0.25,  0.5,  0.75, 1,    2.5,  5,
                                         7.5,   10,    20,   40,   80,   160,  320};
constexpr double kInterTokenBuckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15,
                                         0.2,   0.3,    0.4,   0.5,  0.75,  1,    2.5,   5};
// Powers of two up to a large max_num_seqs.
constexpr double kBatchSizeBuckets[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

prometheus::Histogram* AddHistogram(prometheus::Registry& registry, const std::string& name,
                                    const std::string& help, std::span<const double> bounds) {
  return &prometheus::BuildHistogram().Name(name).Help(help).Register(registry).Add(
      {}, prometheus::Histogram::BucketBoundaries(bounds.begin(), bounds.end()));
}

}  // namespace

std::string_view StatusClass(int http_status) {
  switch (http_status / 100) {
    case 1: return "1xx";
    case 2: return "2xx";
    case 3: return "3xx";
    case 4: return "4xx";
    case 5: return "5xx";
    default: return "other";
  }
}

ServerMetrics::ServerMetrics() : registry_(std::make_unique<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("dsinfer_http_requests_total")
                   .Help("HTTP requests answered, by route and status class")
                   .Register(*registry_);
  end_to_end_ = AddHistogram(*registry_, "dsinfer_request_duration_seconds",
                             "Generation requests: received to last byte queued, in seconds",
                             kEndToEndBuckets);
  queue_time_ =
      AddHistogram(*registry_, "dsinfer_request_queue_seconds",
                   "Generation requests: submitted to first scheduled, in seconds", kQueueBuckets);
  time_to_first_token_ = AddHistogram(
      *registry_, "dsinfer_time_to_first_token_seconds",
      "Generation requests: received to first generated token, in seconds", kFirstTokenBuckets);
  batch_size_ = AddHistogram(*registry_, "dsinfer_batch_size_sequences",
                             "Sequences computed together per engine step", kBatchSizeBuckets);
  inter_token_ = AddHistogram(*registry_, "dsinfer_inter_token_latency_seconds",
                              "Time between consecutive generated tokens of a request, seconds",
                              kInterTokenBuckets);
}

ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::CountRequest(std::string_view route, int http_status) {
  requests_->Add({{"route", std::string(route)}, {"status", std::string(StatusClass(http_status))}})
      .Increment();
}

void ServerMetrics::ObserveEndToEnd(double seconds) { end_to_end_->Observe(seconds); }
void ServerMetrics::ObserveQueueTime(double seconds) { queue_time_->Observe(seconds); }
void ServerMetrics::ObserveTimeToFirstToken(double seconds) {
  time_to_first_token_->Observe(seconds);
}
void ServerMetrics::ObserveInterToken(double seconds) { inter_token_->Observe(seconds); }
void ServerMetrics::ObserveBatchSize(int64_t sequences) {
  batch_size_->Observe(static_cast<double>(sequences));
}

std::string ServerMetrics::Exposition(const engine::EngineStats& engine,
                                      const HttpStats& http) const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (prometheus::MetricFamily& family : EngineStatsFamilies(engine)) {
    families.push_back(std::move(family));
  }
  for (prometheus::MetricFamily& family : HttpStatsFamilies(http)) {
    families.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace dsinfer::telemetry
