#include "platform/memory_bandwidth.h"

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <fmt/format.h>

#include "base/check.h"
#include "base/clock.h"
#include "platform/cpu_features.h"

namespace dsinfer {

namespace {

// Sum of n words with independent accumulators, so the adds never limit the loads. Each line
// also asks for the one kReadAheadBytes on (kernels_bench's one-thread StreamRead on this EPYC:
// 34 GB/s without, 39 with, alternating runs). With SSE2 (every x86-64) a line is 4 vector
// adds with their loads folded in, 8 instructions with the loop's: in scalar adds it was 17,
// which at 40 GB/s a core is ~3 a cycle, enough for a build's placement of the loop to move
// the probe by a few percent. Aligned, so that the loop starts where it did in every build.
constexpr int64_t kReadAheadWords = kReadAheadBytes / sizeof(uint64_t);

[[gnu::aligned(64)]] uint64_t SumWords(const uint64_t* p, int64_t n) {
  constexpr int64_t kLineWords = 64 / sizeof(uint64_t);
  int64_t i = 0;
  uint64_t sum = 0;
#if defined(__SSE2__)
  __m128i a = _mm_setzero_si128(), b = a, c = a, d = a;
  for (; i + kLineWords <= n; i += kLineWords) {
    __builtin_prefetch(p + std::min(i + kReadAheadWords, n - 1), /*rw=*/0, /*locality=*/2);
    const auto* line = reinterpret_cast<const __m128i*>(p + i);
    a = _mm_add_epi64(a, _mm_loadu_si128(line));
    b = _mm_add_epi64(b, _mm_loadu_si128(line + 1));
    c = _mm_add_epi64(c, _mm_loadu_si128(line + 2));
    d = _mm_add_epi64(d, _mm_loadu_si128(line + 3));
  }
  const __m128i all = _mm_add_epi64(_mm_add_epi64(a, b), _mm_add_epi64(c, d));
  sum = static_cast<uint64_t>(_mm_cvtsi128_si64(all)) +
        static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(all, all)));
#else
  uint64_t a = 0, b = 0, c = 0, d = 0;
  for (; i + kLineWords <= n; i += kLineWords) {
    __builtin_prefetch(p + std::min(i + kReadAheadWords, n - 1), /*rw=*/0, /*locality=*/2);
    a += p[i] + p[i + 4];
    b += p[i + 1] + p[i + 5];
    c += p[i + 2] + p[i + 6];
    d += p[i + 3] + p[i + 7];
  }
  sum = a + b + c + d;
#endif
  for (; i < n; ++i) sum += p[i];
  return sum;
}

#if defined(__x86_64__)
// SumWords with two 256-bit loads a line, for CPUs with AVX2 (ProbeLoads::kWidest).
[[gnu::target("avx2"), gnu::aligned(64)]] uint64_t SumWordsAvx2(const uint64_t* p, int64_t n) {
  constexpr int64_t kLineWords = 64 / sizeof(uint64_t);
  int64_t i = 0;
  __m256i a = _mm256_setzero_si256();
  __m256i b = a;
  for (; i + kLineWords <= n; i += kLineWords) {
    __builtin_prefetch(p + std::min(i + kReadAheadWords, n - 1), /*rw=*/0, /*locality=*/2);
    const auto* line = reinterpret_cast<const __m256i*>(p + i);
    a = _mm256_add_epi64(a, _mm256_loadu_si256(line));
    b = _mm256_add_epi64(b, _mm256_loadu_si256(line + 1));
  }
  const __m256i ab = _mm256_add_epi64(a, b);
  const __m128i all = _mm_add_epi64(_mm256_castsi256_si128(ab), _mm256_extracti128_si256(ab, 1));
  uint64_t sum = static_cast<uint64_t>(_mm_cvtsi128_si64(all)) +
                 static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(all, all)));
  for (; i < n; ++i) sum += p[i];
  return sum;
}
#endif

using SumWordsFn = uint64_t (*)(const uint64_t*, int64_t);

SumWordsFn SumWordsFor(ProbeLoads loads) {
#if defined(__x86_64__)
  if (loads == ProbeLoads::kWidest && GetCpuFeatures().avx2) return SumWordsAvx2;
#endif
  static_cast<void>(loads);
  return SumWords;
}

}  // namespace

uint64_t ReadEveryWord(std::span<const std::byte> buffer, ThreadPool* pool, ProbeLoads loads) {
  const auto* words = reinterpret_cast<const uint64_t*>(buffer.data());
  const auto n = static_cast<int64_t>(buffer.size() / sizeof(uint64_t));
  const SumWordsFn sum_words = SumWordsFor(loads);
  if (pool == nullptr) return sum_words(words, n);
  // One cache line per thread's partial sum, so the threads never share a line.
  struct alignas(64) Partial {
    uint64_t sum = 0;
  };
  std::vector<Partial> partial(static_cast<size_t>(pool->num_threads()));
  pool->ParallelForBalanced(n, /*grain=*/4096, [&](int64_t begin, int64_t end, int thread) {
    partial[static_cast<size_t>(thread)].sum += sum_words(words + begin, end - begin);
  });
  uint64_t total = 0;
  for (const Partial& p : partial) total += p.sum;
  return total;
}

double TimedReadPass(std::span<const std::span<const std::byte>> pieces, ThreadPool* pool) {
  const Stopwatch clock;
  uint64_t sum = 0;
  size_t bytes = 0;
  for (const std::span<const std::byte> piece : pieces) {
    sum += ReadEveryWord(piece, pool);
    bytes += piece.size();
  }
  // The sum goes to a volatile so that the pass cannot be dropped.
  volatile const uint64_t sink = sum;
  static_cast<void>(sink);
  return static_cast<double>(bytes) / clock.ElapsedSeconds();
}

double TimedReadPass(std::span<const std::byte> buffer, ThreadPool* pool) {
  return TimedReadPass(std::span(&buffer, 1), pool);
}

std::vector<std::span<const std::byte>> SpreadPieces(std::span<const std::byte> bytes,
                                                     size_t max_bytes, size_t piece_bytes) {
  DSI_CHECK(piece_bytes > 0);
  if (bytes.size() <= max_bytes) return {bytes};
  const size_t count = std::max<size_t>(max_bytes / piece_bytes, 1);
  const size_t length = std::min(piece_bytes, bytes.size());
  const size_t stride = (bytes.size() - length) / std::max<size_t>(count - 1, 1);
  std::vector<std::span<const std::byte>> pieces;
  pieces.reserve(count);
  for (size_t i = 0; i < count; ++i) pieces.push_back(bytes.subspan(i * stride, length));
  return pieces;
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
