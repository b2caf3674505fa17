// Truncation processors: block-skipping scans, nth_element compaction, prefix rules.
#include "sampling/logits_processors.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/elementwise.h"

namespace dsinfer::sampling {
namespace {

// Plain loops that GCC vectorises at -O3 for the baseline ISA: an OR of compares, no early
// exit, so the common "nothing here" block costs a few vector instructions.
bool AnyAtLeast(const float* x, size_t n, float cut) {
  int hits = 0;
  for (size_t i = 0; i < n; ++i) hits |= static_cast<int>(x[i] >= cut);
  return hits != 0;
}

bool AnyAbove(const float* x, size_t n, float cut) {
  int hits = 0;
  for (size_t i = 0; i < n; ++i) hits |= static_cast<int>(x[i] > cut);
  return hits != 0;
}

bool AnyEqual(const float* x, size_t n, float value) {
  int hits = 0;
  for (size_t i = 0; i < n; ++i) hits |= static_cast<int>(x[i] == value);
  return hits != 0;
}

}  // namespace

int32_t ArgMax(std::span<const float> values) {
  const float* x = values.data();
  const size_t n = values.size();
  if (n == 0) return -1;
  const float max = kernels::Elementwise().row_max(x, static_cast<int64_t>(n));
  if (!(max > -std::numeric_limits<float>::infinity())) return -1;
  for (size_t start = 0; start < n; start += kScanBlock) {
    const size_t len = std::min(kScanBlock, n - start);
    if (!AnyEqual(x + start, len, max)) continue;
    return static_cast<int32_t>(std::find(x + start, x + start + len, max) - x);
  }
  return -1;  // unreachable: the maximum is one of the values
}

void SelectTop(std::span<const float> values, size_t k, float floor, std::vector<int32_t>* out) {
  out->clear();
  const float* x = values.data();
  const size_t n = values.size();
  k = std::min(k, n);
  if (k == 0) return;
  auto better = [x](int32_t a, int32_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); };
  // Compact once `capacity` indices are held; a scanned block may add kScanBlock more, which
  // the buffer has room for, so the scan stores unconditionally and advances by the compare
  // (no branch to mispredict on random data).
  const size_t capacity = std::min(n, 2 * k + kScanBlock);
  out->resize(capacity + kScanBlock);
  int32_t* held = out->data();
  size_t size = 0;
  auto keep_best_k = [&] {
    std::nth_element(held, held + (k - 1), held + size, better);
    size = k;
  };

  // Until the first compaction a value enters if >= floor; after it, only if > the k-th best
  // kept so far: an equal value comes later, so it has a higher id and ranks below.
  float cut = floor;
  bool strict = false;
  for (size_t start = 0; start < n; start += kScanBlock) {
    const size_t len = std::min(kScanBlock, n - start);
    const float* block = x + start;
    if (strict) {
      if (!AnyAbove(block, len, cut)) continue;
      for (size_t i = 0; i < len; ++i) {
        held[size] = static_cast<int32_t>(start + i);
        size += static_cast<size_t>(block[i] > cut);
      }
    } else {
      if (!AnyAtLeast(block, len, cut)) continue;
      for (size_t i = 0; i < len; ++i) {
        held[size] = static_cast<int32_t>(start + i);
        size += static_cast<size_t>(block[i] >= cut);
      }
    }
    if (size >= capacity && size > k) {
      keep_best_k();
      cut = x[held[k - 1]];
      strict = true;
    }
  }
  if (size > k) keep_best_k();
  out->resize(size);
  std::sort(out->begin(), out->end(), better);
}

void TemperatureWeights(std::span<const float> logits, std::span<const int32_t> ids,
                        float temperature, std::span<float> weights) {
  if (ids.empty()) return;
  const float max = logits[ids[0]];
  const float inv_temperature = 1.0f / temperature;
  for (size_t j = 0; j < ids.size(); ++j) {
    weights[j] = std::exp((logits[ids[j]] - max) * inv_temperature);
  }
}

std::optional<size_t> TopPKeep(std::span<const float> weights, double total, float top_p) {
  if (top_p >= 1.0f) return weights.size();
  const double limit = static_cast<double>(top_p) * total;
  double mass = 0.0;
  for (size_t j = 0; j < weights.size(); ++j) {
    mass += weights[j];
    // Token j was kept (the mass before it is below the limit); if the limit is now reached,
    // every later token is removed.
    if (mass >= limit) return j + 1;
  }
  return std::nullopt;
}

size_t MinPKeep(std::span<const float> weights, float min_p) {
  if (weights.empty()) return 0;
  const float threshold = min_p * weights[0];
  size_t keep = 1;
  while (keep < weights.size() && weights[keep] >= threshold) ++keep;
  return keep;
}

int64_t DrawFromWeights(std::span<const float> weights, double u) {
  double cumulative = 0.0;
  int64_t last_positive = -1;
  for (size_t j = 0; j < weights.size(); ++j) {
    if (!(weights[j] > 0.0f)) continue;
    cumulative += weights[j];
    last_positive = static_cast<int64_t>(j);
    if (u < cumulative) return last_positive;
  }
  return last_positive;
}

}  // namespace dsinfer::sampling
