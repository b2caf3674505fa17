#include "platform/memory_bandwidth.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "base/clock.h"

namespace dsinfer {

namespace {

// Sum of n words with independent accumulators, so the adds never limit the loads. Each line
// also asks for the one kReadAheadBytes on (kernels_bench's one-thread StreamRead on this EPYC:
// 34 GB/s without, 39 with, alternating runs).
constexpr int64_t kReadAheadWords = kReadAheadBytes / sizeof(uint64_t);

uint64_t SumWords(const uint64_t* p, int64_t n) {
  constexpr int64_t kLineWords = 64 / sizeof(uint64_t);
  uint64_t a = 0, b = 0, c = 0, d = 0;
  int64_t i = 0;
  for (; i + kLineWords <= n; i += kLineWords) {
    __builtin_prefetch(p + std::min(i + kReadAheadWords, n - 1));
    a += p[i] + p[i + 4];
    b += p[i + 1] + p[i + 5];
    c += p[i + 2] + p[i + 6];
    d += p[i + 3] + p[i + 7];
  }
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}

}  // namespace

uint64_t ReadEveryWord(std::span<const std::byte> buffer, ThreadPool* pool) {
  const auto* words = reinterpret_cast<const uint64_t*>(buffer.data());
  const auto n = static_cast<int64_t>(buffer.size() / sizeof(uint64_t));
  if (pool == nullptr) return SumWords(words, n);
  // One cache line per thread's partial sum, so the threads never share a line.
  struct alignas(64) Partial {
    uint64_t sum = 0;
  };
  std::vector<Partial> partial(static_cast<size_t>(pool->num_threads()));
  pool->ParallelForBalanced(n, /*grain=*/4096, [&](int64_t begin, int64_t end, int thread) {
    partial[static_cast<size_t>(thread)].sum += SumWords(words + begin, end - begin);
  });
  uint64_t total = 0;
  for (const Partial& p : partial) total += p.sum;
  return total;
}

double TimedReadPass(std::span<const std::byte> buffer, ThreadPool* pool) {
  const Stopwatch clock;
  // The sum goes to a volatile so that the pass cannot be dropped.
  volatile const uint64_t sink = ReadEveryWord(buffer, pool);
  static_cast<void>(sink);
  return static_cast<double>(buffer.size()) / clock.ElapsedSeconds();
}

double MeasureReadBandwidth(std::span<const std::byte> buffer, ThreadPool* pool,
                            const ReadBandwidthOptions& options) {
  TimedReadPass(buffer, pool);
  double best = 0;
  for (int pass = 0; pass < options.passes; ++pass) {
    best = std::max(best, TimedReadPass(buffer, pool));
  }
  return best;
}

StatusOr<ProbeBuffer> ProbeBuffer::Create(size_t bytes) {
  constexpr size_t kMinBytes = size_t{1} << 20;
  if (bytes < kMinBytes) {
    return InvalidArgumentError(fmt::format("bandwidth buffer of {} bytes is under 1 MiB", bytes));
  }
  StatusOr<HugePageArena> arena = HugePageArena::Reserve(HugePageArena::Footprint(bytes));
  if (!arena.ok()) return arena.status().WithContext("bandwidth buffer");
  DSI_ASSIGN_OR_RETURN(const std::span<std::byte> buffer, arena->Take(bytes));
  std::memset(buffer.data(), 0x5a, bytes);
  return ProbeBuffer(std::move(arena).value(), buffer);
}

StatusOr<double> MeasureReadBandwidth(size_t buffer_bytes, ThreadPool* pool,
                                      const ReadBandwidthOptions& options) {
  if (options.passes < 1) {
    return InvalidArgumentError(fmt::format("bandwidth passes {} < 1", options.passes));
  }
  DSI_ASSIGN_OR_RETURN(const ProbeBuffer buffer, ProbeBuffer::Create(buffer_bytes));
  return MeasureReadBandwidth(buffer.bytes(), pool, options);
}

}  // namespace dsinfer
