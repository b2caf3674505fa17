#include "platform/thread_pool.h"

#include <algorithm>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "base/check.h"

namespace dsinfer {

thread_local bool ThreadPool::inside_job_ = false;

namespace {

// A spin-wait hint: lets the sibling hyperthread run and saves power while spinning.
void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

}  // namespace

ThreadPool::ThreadPool(int num_threads)
    : runs_(std::make_unique<OwnedRun[]>(static_cast<size_t>(std::max(1, num_threads)))),
      num_threads_(std::max(1, num_threads)) {
  workers_.reserve(num_threads_ - 1);
  for (int t = 1; t < num_threads_; ++t) workers_.emplace_back([this, t] { WorkerLoop(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::ChunkRange(int64_t n, int64_t grain, int threads, int thread, int64_t* begin,
                            int64_t* end) {
  const int64_t blocks = (n + grain - 1) / grain;
  const int64_t base = blocks / threads;
  const int64_t extra = blocks % threads;
  const int64_t first = thread * base + std::min<int64_t>(thread, extra);
  const int64_t count = base + (thread < extra ? 1 : 0);
  *begin = std::min(n, first * grain);
  *end = std::min(n, (first + count) * grain);
}

namespace {

constexpr uint64_t PackRun(uint64_t front, uint64_t back) { return front | back << 32; }
constexpr uint64_t RunFront(uint64_t run) { return run & 0xFFFFFFFFu; }
constexpr uint64_t RunBack(uint64_t run) { return run >> 32; }

}  // namespace

int64_t ThreadPool::TakeChunk(int owner, RunEnd end) {
  std::atomic<uint64_t>& range = runs_[static_cast<size_t>(owner)].range;
  const bool front = end == RunEnd::kFront;
  uint64_t run = range.load(std::memory_order_relaxed);
  while (RunFront(run) < RunBack(run)) {
    const uint64_t taken = front ? RunFront(run) : RunBack(run) - 1;
    const uint64_t rest = front ? PackRun(taken + 1, RunBack(run)) : PackRun(RunFront(run), taken);
    if (range.compare_exchange_weak(run, rest, std::memory_order_relaxed)) {
      return static_cast<int64_t>(taken);
    }
  }
  return -1;
}

int ThreadPool::SplitRun(int64_t first, int64_t last, int64_t* bounds) {
  int count = 0;
  bounds[0] = first;
  for (int64_t at = first; at < last; bounds[++count] = at) {
    const int64_t left = last - at;
    at += count == kMaxRunChunks - 1 ? left : std::max<int64_t>(1, left / 4);
  }
  return count;
}

int ThreadPool::RunBounds(int owner, int64_t* bounds) const {
  const int64_t grains = (job_.n + job_.grain - 1) / job_.grain;
  int64_t first = 0, last = 0;
  ChunkRange(grains, 1, num_threads_, owner, &first, &last);
  return SplitRun(first, last, bounds);
}

void ThreadPool::RunGrains(int64_t first, int64_t last, int thread) {
  job_.fn(job_.ctx, first * job_.grain, std::min(job_.n, last * job_.grain), thread);
}

void ThreadPool::RunBalancedChunks(int thread) {
  int64_t bounds[kMaxRunChunks + 1];
  RunBounds(thread, bounds);
  for (int64_t c = TakeChunk(thread, RunEnd::kFront); c >= 0;
       c = TakeChunk(thread, RunEnd::kFront)) {
    RunGrains(bounds[c], bounds[c + 1], thread);
  }
  // Then from the back of the run with the most chunks left, until every run is empty. A run
  // only shrinks, so this ends.
  for (;;) {
    int victim = -1;
    uint64_t most = 0;
    for (int t = 0; t < num_threads_; ++t) {
      const uint64_t run = runs_[static_cast<size_t>(t)].range.load(std::memory_order_relaxed);
      const uint64_t left = RunBack(run) - std::min(RunFront(run), RunBack(run));
      if (left > most) {
        most = left;
        victim = t;
      }
    }
    if (victim < 0) return;
    if (const int64_t c = TakeChunk(victim, RunEnd::kBack); c >= 0) {
      RunBounds(victim, bounds);
      RunGrains(bounds[c], bounds[c + 1], thread);
    }
  }
}

void ThreadPool::RunChunk(int thread) {
  if (job_.balanced) {
    RunBalancedChunks(thread);
    return;
  }
  int64_t begin = 0, end = 0;
  ChunkRange(job_.n, job_.grain, num_threads_, thread, &begin, &end);
  if (begin < end) job_.fn(job_.ctx, begin, end, thread);
}

void ThreadPool::Run(int64_t n, int64_t grain, JobFn fn, void* ctx, bool balanced) {
  DSI_CHECK(grain >= 1);
  if (n <= 0) return;
  if (num_threads_ == 1 || inside_job_ || n <= grain) {
    fn(ctx, 0, n, 0);
    return;
  }
  // Every worker finished the previous generation (Run waited for pending == 0), so none
  // reads the job fields while they change.
  job_.fn = fn;
  job_.ctx = ctx;
  job_.n = n;
  job_.grain = grain;
  job_.balanced = balanced;
  if (balanced) {  // published by the generation bump, as the fields above
    // A run's chunk count depends only on its length, and ChunkRange gives the first `extra`
    // threads one grain more than the rest: two SplitRuns per job rather than one per thread,
    // which a many-core pool would pay serially before every hand-off.
    const int64_t grains = (n + grain - 1) / grain;
    const int64_t extra = grains % num_threads_;
    int64_t bounds[kMaxRunChunks + 1];
    const auto longer = static_cast<uint64_t>(SplitRun(0, grains / num_threads_ + 1, bounds));
    const auto shorter = static_cast<uint64_t>(SplitRun(0, grains / num_threads_, bounds));
    for (int t = 0; t < num_threads_; ++t) {
      runs_[static_cast<size_t>(t)].range.store(PackRun(0, t < extra ? longer : shorter),
                                                std::memory_order_relaxed);
    }
  }
  done_state_.pending.store(num_threads_ - 1, std::memory_order_relaxed);
  // Sequentially consistent, as the load of sleeping_workers after it and the worker's
  // increment and predicate: either this load sees a worker that is going to sleep, or that
  // worker's predicate sees the new generation. So the mutex is only taken to wake a sleeper.
  job_.generation.fetch_add(1, std::memory_order_seq_cst);
  if (job_.sleeping_workers.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  std::exception_ptr error;
  inside_job_ = true;
  try {
    RunChunk(0);
  } catch (...) {
    error = std::current_exception();
  }
  inside_job_ = false;
  std::atomic<int>& pending = done_state_.pending;
  for (int i = 0; i < kSpinIterations && pending.load(std::memory_order_acquire) != 0; ++i) {
    CpuRelax();
  }
  if (pending.load(std::memory_order_acquire) != 0) {
    // The same pairing as above, with caller_sleeping and the last worker's decrement.
    std::unique_lock<std::mutex> lock(mutex_);
    done_state_.caller_sleeping.store(true, std::memory_order_seq_cst);
    done_.wait(lock, [&pending] { return pending.load(std::memory_order_seq_cst) == 0; });
    done_state_.caller_sleeping.store(false, std::memory_order_relaxed);
  }
  // Every worker is done with this generation, and its write of error_ happened before its
  // decrement of pending, which the loads above acquired.
  if (!error) error = std::exchange(error_, nullptr);
  error_ = nullptr;
  if (error) std::rethrow_exception(error);
}

void ThreadPool::ExpectWorkWithin(std::chrono::microseconds within) {
  const auto until = std::chrono::steady_clock::now() + within;
  // Sequentially consistent, as the load of sleeping_workers after it and a sleeping worker's
  // increment and predicate (the pairing Run uses): either this load sees the worker that is
  // going to sleep, or its predicate sees the deadline.
  expect_work_until_.store(until.time_since_epoch().count(), std::memory_order_seq_cst);
  if (job_.sleeping_workers.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
}

void ThreadPool::WorkerLoop(int thread) {
  uint64_t seen = 0;
  inside_job_ = true;
  const auto has_news = [&] {
    return stop_.load(std::memory_order_seq_cst) ||
           job_.generation.load(std::memory_order_seq_cst) != seen;
  };
  const auto expected_until = [&] {
    return std::chrono::steady_clock::time_point{
        std::chrono::steady_clock::duration{expect_work_until_.load(std::memory_order_seq_cst)}};
  };
  for (;;) {
    bool news = has_news();
    const auto spin_until = std::chrono::steady_clock::now() + kWorkerSpin;
    for (;;) {
      // A clock read costs more than a pause: one every kPausesPerRead (~1 us here).
      constexpr int kPausesPerRead = 64;
      for (int i = 0; i < kPausesPerRead && !news; ++i) {
        CpuRelax();
        news = has_news();
      }
      if (news) break;
      const auto now = std::chrono::steady_clock::now();
      if (now >= spin_until && now >= expected_until()) break;
    }
    if (!news) {
      std::unique_lock<std::mutex> lock(mutex_);
      job_.sleeping_workers.fetch_add(1, std::memory_order_seq_cst);
      wake_.wait(lock,
                 [&] { return has_news() || std::chrono::steady_clock::now() < expected_until(); });
      job_.sleeping_workers.fetch_sub(1, std::memory_order_relaxed);
      if (!has_news()) continue;  // work is expected (ExpectWorkWithin): spin until then
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = job_.generation.load(std::memory_order_acquire);
    try {
      RunChunk(thread);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    if (done_state_.pending.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        done_state_.caller_sleeping.load(std::memory_order_seq_cst)) {
      // Under the mutex, which the caller holds from its last check of pending until it
      // sleeps, so that this cannot fall between the two.
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
    }
  }
}

}  // namespace dsinfer
