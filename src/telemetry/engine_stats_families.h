// Prometheus metric families built from point-in-time snapshots: the engine's EngineStats
// and the HTTP server's connection counts. Used by ServerMetrics::Exposition at scrape time;
// separate so the mapping (names, types, help text) is testable on its own.
//
// Counters here are the engine's own running totals (monotonic for the life of the
// process), exposed with their absolute value as Prometheus expects of a counter.
#ifndef DSINFER_TELEMETRY_ENGINE_STATS_FAMILIES_H_
#define DSINFER_TELEMETRY_ENGINE_STATS_FAMILIES_H_

#include <cstdint>
#include <vector>

#include <prometheus/metric_family.h>

#include "engine/engine.h"

namespace dsinfer::telemetry {

// The HTTP layer's side of the snapshot.
struct HttpStats {
  int64_t open_connections = 0;
  int64_t active_requests = 0;  // exchanges whose response is not yet fully written
  bool draining = false;
};

std::vector<prometheus::MetricFamily> EngineStatsFamilies(const engine::EngineStats& stats);
std::vector<prometheus::MetricFamily> HttpStatsFamilies(const HttpStats& stats);

}  // namespace dsinfer::telemetry

#endif  // DSINFER_TELEMETRY_ENGINE_STATS_FAMILIES_H_
