#include "platform/thread_pool.h"

#include <algorithm>
#include <utility>

#include "base/check.h"

namespace dsinfer {

thread_local bool ThreadPool::inside_job_ = false;

ThreadPool::ThreadPool(int num_threads) : num_threads_(std::max(1, num_threads)) {
  workers_.reserve(num_threads_ - 1);
  for (int t = 1; t < num_threads_; ++t) workers_.emplace_back([this, t] { WorkerLoop(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
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

void ThreadPool::RunChunk(int thread) {
  int64_t begin = 0, end = 0;
  ChunkRange(job_n_, job_grain_, num_threads_, thread, &begin, &end);
  if (begin < end) job_fn_(job_ctx_, begin, end, thread);
}

void ThreadPool::Run(int64_t n, int64_t grain, JobFn fn, void* ctx) {
  DSI_CHECK(grain >= 1);
  if (n <= 0) return;
  if (num_threads_ == 1 || inside_job_ || n <= grain) {
    fn(ctx, 0, n, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_fn_ = fn;
    job_ctx_ = ctx;
    job_n_ = n;
    job_grain_ = grain;
    pending_ = num_threads_ - 1;
    ++generation_;
  }
  wake_.notify_all();
  std::exception_ptr error;
  inside_job_ = true;
  try {
    RunChunk(0);
  } catch (...) {
    error = std::current_exception();
  }
  inside_job_ = false;
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return pending_ == 0; });
  if (!error) error = std::exchange(error_, nullptr);
  error_ = nullptr;
  if (error) std::rethrow_exception(error);
}

void ThreadPool::WorkerLoop(int thread) {
  uint64_t seen = 0;
  inside_job_ = true;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    std::exception_ptr error;
    try {
      RunChunk(thread);
    } catch (...) {
      error = std::current_exception();
    }
    bool last = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (error && !error_) error_ = error;
      last = --pending_ == 0;
    }
    if (last) done_.notify_one();
  }
}

}  // namespace dsinfer
