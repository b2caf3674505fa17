// ThreadPool: a fixed set of workers for data-parallel kernels.
//
// ParallelFor(n, fn) splits [0, n) into one contiguous static chunk per thread (the caller
// runs chunk 0) and returns when every chunk is done. ParallelForBalanced(n, grain, fn) is for
// memory-bound loops: two cores streaming equal halves do not get equal bandwidth, and with
// static halves the first to finish waited for the other (7-9 % of a decode profile). Each
// thread owns a contiguous run (its static share) and takes it front to back, so that its reads
// stay one stream (the kernels' prefetches run ahead into its own next chunk, and the counter it
// takes them from stays in its own cache); a thread whose run is done takes chunks from the back
// of the run with the most left. A run's chunks shrink towards its back (each a quarter of what
// the run has left), so the threads finish within a small chunk of each other while a run takes
// few chunks (a 2 MiB Q4_0 matvec on two threads: ~8 us at a run's front, a grain of 32 rows,
// about 1 us, at its back).
// No allocation per call: the job is a function pointer plus context living on the caller's
// stack, published to the workers by bumping a generation counter.
//
// Wake-up: decode runs hundreds of short ParallelFors per token (a 2 MiB matvec takes ~40 us),
// so a futex sleep and wake per call would cost a large fraction of each. Workers therefore
// spin on the job counter for a bounded time (kWorkerSpin, or longer where the caller said
// work would follow: ExpectWorkWithin) after each job before sleeping on the condition
// variable, and the caller spins (kSpinIterations pauses, ~50-100 us) for the workers to
// finish. An idle pool sleeps; a busy one never enters the kernel, and takes its
// mutex only to wake a thread that sleeps (a mutex per call cost a third of a microsecond of
// each hand-off and, contended between the caller and the last worker, futex calls).
//
// Thread safety: ParallelFor may be called from one thread at a time (the engine thread
// owns the pool); nested calls from inside a job run serially on the calling worker.
// Kernels do not throw; if a chunk does anyway, ParallelFor still waits for every worker
// (they hold pointers into the caller's frame) and then rethrows the first exception.
#ifndef DSINFER_PLATFORM_THREAD_POOL_H_
#define DSINFER_PLATFORM_THREAD_POOL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace dsinfer {

class ThreadPool {
 public:
  // `num_threads` counts the caller: 1 means no workers, all work inline.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Keeps the workers spinning rather than sleeping until `within` from now (waking any that
  // sleep): for a caller whose next job follows after serial work that may outlast kWorkerSpin
  // (a decode loop's sampling, scheduling and streaming between two steps), so that the job
  // does not wait for a worker to wake. Between steps of a 1.5B decode on a 2-vCPU VM, the
  // first job waited 100-140 us for its worker at the 99th percentile (bench/README.md). The
  // last call's deadline holds (the engine thread, the pool's one caller, is the one to call it).
  void ExpectWorkWithin(std::chrono::microseconds within);

  // Workers blocked waiting for work now (for tests).
  int sleeping_workers() const { return job_.sleeping_workers.load(std::memory_order_seq_cst); }

  // Calls fn(begin, end, thread_index) over disjoint chunks covering [0, n); chunk starts are
  // multiples of `grain` so that blocks of rows are never split.
  template <typename Fn>
  void ParallelFor(int64_t n, Fn&& fn, int64_t grain = 1) {
    using F = std::remove_reference_t<Fn>;
    Run(
        n, grain,
        [](void* ctx, int64_t begin, int64_t end, int thread) {
          (*static_cast<F*>(ctx))(begin, end, thread);
        },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

  // Calls fn(begin, end, thread) over [0, n) in chunks whose starts are multiples of `grain`:
  // each thread's own run of chunks in order, then, once that is done, chunks taken from the
  // back of the others' (caller included; inline, as for ParallelFor: one call over [0, n)).
  template <typename Fn>
  void ParallelForBalanced(int64_t n, int64_t grain, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    Run(
        n, grain,
        [](void* ctx, int64_t begin, int64_t end, int thread) {
          (*static_cast<F*>(ctx))(begin, end, thread);
        },
        const_cast<void*>(static_cast<const void*>(&fn)), /*balanced=*/true);
  }

  // The chunk bounds, in grains, that ParallelForBalanced gives a run of [first, last) grains:
  // bounds[0] = first < bounds[1] < ... < bounds[count] = last; returns count (at most
  // kMaxRunChunks). Exposed for tests.
  static int SplitRun(int64_t first, int64_t last, int64_t* bounds);
  static constexpr int kMaxRunChunks = 48;

  // The [begin, end) chunk of thread `thread` out of `threads` (exposed for tests).
  static void ChunkRange(int64_t n, int64_t grain, int threads, int thread, int64_t* begin,
                         int64_t* end);

 private:
  using JobFn = void (*)(void* ctx, int64_t begin, int64_t end, int thread);

  void Run(int64_t n, int64_t grain, JobFn fn, void* ctx, bool balanced = false);
  void WorkerLoop(int thread);
  void RunChunk(int thread);
  void RunBalancedChunks(int thread);
  // The bounds of `owner`'s run of the current balanced job into `bounds` (SplitRun of its
  // ChunkRange share of the grains); returns their count. Each thread works its own and its
  // victims' out rather than reading them from the caller's writes: a line fewer to move
  // between cores per job.
  int RunBounds(int owner, int64_t* bounds) const;
  // Runs grains [first, last) of the current job on thread `thread`.
  void RunGrains(int64_t first, int64_t last, int thread);
  // The index of the chunk taken from the front of `owner`'s run (by its owner) or from its back
  // (by another thread), or -1 when the run is empty.
  enum class RunEnd { kFront, kBack };
  int64_t TakeChunk(int owner, RunEnd end);

  // Pauses the caller spins for completion before it blocks on a condition variable.
  static constexpr int kSpinIterations = 4096;
  // How long a worker spins for new work before it blocks, unless ExpectWorkWithin asked for
  // longer: spans the caller's serial work between the jobs of a step (norms, RoPE, attention's
  // neighbours: tens of microseconds), not an idle pool's.
  static constexpr std::chrono::microseconds kWorkerSpin{80};

  // (The line-aligned state first, the rest packed after it.)
  //
  // The current job, written by the caller and then published by bumping `generation`
  // (workers read the fields after seeing the new value, acquire). One cache line, which a
  // spinning worker holds shared: the bump brings it the whole job in one transfer (between
  // cores a transfer is ~250 ns here, and decode hands off hundreds of jobs per token).
  struct alignas(64) Job {
    std::atomic<uint64_t> generation{0};
    JobFn fn = nullptr;
    void* ctx = nullptr;
    int64_t n = 0;
    int64_t grain = 1;
    bool balanced = false;  // chunks taken from the runs in runs_
    // Workers blocked on wake_ (changed under mutex_), so that a busy pool never takes the
    // mutex; read by the caller just after its bump, from the line it has just written.
    std::atomic<int> sleeping_workers{0};
  };
  Job job_;
  // The end of a job: the workers still running it, and whether the caller is blocked on
  // done_ (set under mutex_), which the last worker reads after its decrement.
  struct alignas(64) DoneState {
    std::atomic<int> pending{0};
    std::atomic<bool> caller_sleeping{false};
  };
  DoneState done_state_;
  // One thread's run of a balanced job: the indices [front, back) of its chunks (RunBounds)
  // not yet taken, packed as front | back << 32 so that one compare-and-swap takes a chunk
  // from either end. Cache lines of their own: a thread's own takes never move another
  // thread's line.
  struct alignas(64) OwnedRun {
    std::atomic<uint64_t> range{0};
  };
  std::unique_ptr<OwnedRun[]> runs_;
  // The first exception thrown by a chunk: set under mutex_, read by the caller once every
  // worker is done.
  std::exception_ptr error_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const int num_threads_;
  std::atomic<bool> stop_{false};  // written under mutex_
  // ExpectWorkWithin's deadline, steady_clock ticks since its epoch.
  std::atomic<std::chrono::steady_clock::rep> expect_work_until_{0};
  static thread_local bool inside_job_;
};

}  // namespace dsinfer

#endif  // DSINFER_PLATFORM_THREAD_POOL_H_
