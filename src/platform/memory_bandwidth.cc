#include "platform/memory_bandwidth.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
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

// An anonymous mapping, unmapped when it goes.
class AnonymousMapping {
 public:
  explicit AnonymousMapping(size_t bytes)
      : data_(::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)),
        bytes_(bytes) {}
  ~AnonymousMapping() {
    if (ok()) ::munmap(data_, bytes_);
  }
  AnonymousMapping(const AnonymousMapping&) = delete;
  AnonymousMapping& operator=(const AnonymousMapping&) = delete;

  bool ok() const { return data_ != MAP_FAILED; }
  void* data() const { return data_; }

 private:
  void* data_;
  size_t bytes_;
};

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
  pool->ParallelFor(
      n,
      [&](int64_t begin, int64_t end, int thread) {
        partial[static_cast<size_t>(thread)].sum = SumWords(words + begin, end - begin);
      },
      /*grain=*/4096);
  uint64_t total = 0;
  for (const Partial& p : partial) total += p.sum;
  return total;
}

double MeasureReadBandwidth(std::span<const std::byte> buffer, ThreadPool* pool,
                            const ReadBandwidthOptions& options) {
  // The sums go to a volatile so that no pass can be dropped.
  volatile uint64_t sink = ReadEveryWord(buffer, pool);
  double best = 0;
  for (int pass = 0; pass < options.passes; ++pass) {
    const Stopwatch clock;
    sink = sink + ReadEveryWord(buffer, pool);
    best = std::max(best, static_cast<double>(buffer.size()) / clock.ElapsedSeconds());
  }
  return best;
}

StatusOr<double> MeasureReadBandwidth(size_t buffer_bytes, ThreadPool* pool,
                                      const ReadBandwidthOptions& options) {
  constexpr size_t kMinBytes = size_t{1} << 20;
  if (buffer_bytes < kMinBytes) {
    return InvalidArgumentError(
        fmt::format("bandwidth buffer of {} bytes is under 1 MiB", buffer_bytes));
  }
  if (options.passes < 1) {
    return InvalidArgumentError(fmt::format("bandwidth passes {} < 1", options.passes));
  }
  const AnonymousMapping mapping(buffer_bytes);
  if (!mapping.ok()) {
    return ResourceExhaustedError(fmt::format("cannot map a {} MiB bandwidth buffer: {}",
                                              buffer_bytes >> 20, std::strerror(errno)));
  }
  // Advice only: without huge pages the figure includes the 4 KiB pages' TLB misses.
  ::madvise(mapping.data(), buffer_bytes, options.huge_pages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  std::memset(mapping.data(), 0x5a, buffer_bytes);
  return MeasureReadBandwidth(
      std::span<const std::byte>(static_cast<const std::byte*>(mapping.data()), buffer_bytes), pool,
      options);
}

}  // namespace dsinfer
