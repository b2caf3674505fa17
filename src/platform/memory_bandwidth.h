// Measured memory read bandwidth: the roof that memory-bound decode is compared against
// (`dsinfer bench`, bench/kernels_bench).
//
// A STREAM-like read: every 8-byte word of a buffer summed with independent accumulators (so
// the adds never limit the loads), each line asking for the one 8 KiB ahead as the decode
// matvecs do, and split over a ThreadPool as they split their rows (ParallelForBalanced), so
// that a single timed pass is not as slow as the thread that got the least bandwidth. The
// buffer must be much larger than the last-level cache (an EPYC host may serve ~480 MiB from
// L3 whatever it reports): 1-4 GiB.
//
// MeasureReadBandwidth(bytes, ...) maps its own buffer, a ProbeBuffer: anonymous memory on huge
// pages where the kernel allows (as the packed weights are), written with a non-zero pattern
// before timing so every page is faulted in and none is the shared zero page (which would be
// served from cache). `dsinfer bench` keeps one to time single passes between decode steps
// (TimedReadPass).
//
// Thread safety: functions share no state; the pool is used as ThreadPool allows.
#ifndef DSINFER_PLATFORM_MEMORY_BANDWIDTH_H_
#define DSINFER_PLATFORM_MEMORY_BANDWIDTH_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "base/status.h"
#include "platform/huge_page_arena.h"
#include "platform/thread_pool.h"

namespace dsinfer {

// How far ahead of a sequential read to ask for lines, in this probe and in the decode matvecs
// (kernels/x86/packed_x8_body.inc). While a core computes, its hardware prefetchers alone keep
// too few lines in flight for its share of the memory bandwidth (kernels_bench on this EPYC, one
// thread: the Q4_0 and Q4_K matvecs read 29-31 GB/s, a bare read 34-35). About latency x one
// core's bandwidth (~150 ns x 40 GB/s), rounded up: 4 KiB was too short, 16 KiB no better. The
// probe asks the same way so that the roof is not set below what the kernels can read.
// Both ask for L2 (prefetcht1), not L1: on the Intel host with AMX, two threads, a bare read
// took 6-13 % more (128-bit loads 22.7 -> 24.1 GB/s, 256-bit 23.3 -> 26.3, alternating passes)
// and the Q4_0, Q4_K and Q8_0 matvecs 2-12 % more of a read beside them (bench/README.md); the
// line reaches L1 on its load, a few KiB later.
inline constexpr int64_t kReadAheadBytes = 8192;

// One pass over `buffer` (its whole 8-byte words) split over `pool` (null: this thread).
// Returns the words' sum so that the loads cannot be elided.
//
// The loads: 256-bit where the CPU has AVX2 (kWidest), else SSE2's 128-bit, which every x86-64
// has. On the Intel host with AMX the 128-bit loop read 8-9 % less than a 256-bit or 512-bit one
// on two threads (24.1 against 26.3-26.5 GB/s, alternating passes), so it set the roof below what
// the machine reads. k128Bit is for tests, which check both loops on an AVX2 machine.
enum class ProbeLoads { kWidest, k128Bit };
uint64_t ReadEveryWord(std::span<const std::byte> buffer, ThreadPool* pool,
                       ProbeLoads loads = ProbeLoads::kWidest);

// Bytes per second of one ReadEveryWord pass over `buffer`.
double TimedReadPass(std::span<const std::byte> buffer, ThreadPool* pool);

// As above over each of `pieces` in turn: bytes per second of the whole.
double TimedReadPass(std::span<const std::span<const std::byte>> pieces, ThreadPool* pool);

// `bytes` whole when it is at most `max_bytes` long; else max_bytes / piece_bytes pieces (at
// least one) of piece_bytes each, spread evenly over it from its start: a sample of its pages
// for a read that must stay short. piece_bytes > 0.
std::vector<std::span<const std::byte>> SpreadPieces(std::span<const std::byte> bytes,
                                                     size_t max_bytes, size_t piece_bytes);

struct ReadBandwidthOptions {
  int passes = 6;  // timed passes; the best one is reported (after one untimed pass)
};

// Bytes per second of the fastest of `options.passes` timed ReadEveryWord passes over
// `buffer`. One untimed pass comes first: a fresh pool's workers start cold (their first pass
// under-reads the 2-thread bandwidth by ~15 %).
double MeasureReadBandwidth(std::span<const std::byte> buffer, ThreadPool* pool,
                            const ReadBandwidthOptions& options = {});

// A buffer of non-zero bytes to read, on huge pages where the kernel allows (HugePageArena),
// unmapped when it goes.
class ProbeBuffer {
 public:
  // ResourceExhausted when the memory cannot be mapped; InvalidArgument under 1 MiB.
  static StatusOr<ProbeBuffer> Create(size_t bytes);

  std::span<const std::byte> bytes() const { return bytes_; }

 private:
  ProbeBuffer(HugePageArena arena, std::span<std::byte> bytes)
      : arena_(std::move(arena)), bytes_(bytes) {}

  HugePageArena arena_;
  std::span<std::byte> bytes_;  // in arena_'s mapping, which a move does not change
};

// As above over a ProbeBuffer of `buffer_bytes` made for the measurement. Its errors, and
// InvalidArgument for passes < 1.
StatusOr<double> MeasureReadBandwidth(size_t buffer_bytes, ThreadPool* pool,
                                      const ReadBandwidthOptions& options = {});

}  // namespace dsinfer

#endif  // DSINFER_PLATFORM_MEMORY_BANDWIDTH_H_
