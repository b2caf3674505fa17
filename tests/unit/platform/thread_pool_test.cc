#include "platform/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace dsinfer {
namespace {

TEST(ThreadPoolTest, ChunksCoverRangeExactlyOnceAndRespectGrain) {
  for (int threads : {1, 2, 3, 7}) {
    for (int64_t n : {0, 1, 5, 31, 32, 33, 1000}) {
      for (int64_t grain : {1, 4, 32}) {
        std::vector<int> hits(static_cast<size_t>(n), 0);
        int64_t prev_end = 0;
        for (int t = 0; t < threads; ++t) {
          int64_t begin = 0, end = 0;
          ThreadPool::ChunkRange(n, grain, threads, t, &begin, &end);
          ASSERT_LE(begin, end);
          if (begin < end) {
            EXPECT_EQ(begin, prev_end);
            EXPECT_EQ(begin % grain, 0);
            prev_end = end;
          }
          for (int64_t i = begin; i < end; ++i) ++hits[static_cast<size_t>(i)];
        }
        for (int h : hits) ASSERT_EQ(h, 1) << "n=" << n << " grain=" << grain;
      }
    }
  }
}

TEST(ThreadPoolTest, ParallelForRunsEveryIndexOnce) {
  ThreadPool pool(4);
  EXPECT_EQ(pool.num_threads(), 4);
  for (int round = 0; round < 200; ++round) {
    const int64_t n = 1 + round * 37 % 1001;
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    std::set<int> threads_seen;
    std::mutex mu;
    pool.ParallelFor(n, [&](int64_t begin, int64_t end, int thread) {
      {
        std::lock_guard<std::mutex> lock(mu);
        threads_seen.insert(thread);
      }
      for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)]++;
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    for (int t : threads_seen) EXPECT_TRUE(t >= 0 && t < 4);
  }
}

TEST(ThreadPoolTest, NestedCallsRunInline) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  pool.ParallelFor(6, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) {
      pool.ParallelFor(10, [&](int64_t b, int64_t e, int) { total += e - b; });
    }
  });
  EXPECT_EQ(total.load(), 60);
}

TEST(ThreadPoolTest, SingleThreadPoolHasNoWorkers) {
  ThreadPool pool(0);  // clamped to 1
  EXPECT_EQ(pool.num_threads(), 1);
  int calls = 0;
  pool.ParallelFor(100, [&](int64_t begin, int64_t end, int thread) {
    EXPECT_EQ(begin, 0);
    EXPECT_EQ(end, 100);
    EXPECT_EQ(thread, 0);
    ++calls;
  });
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace dsinfer

namespace dsinfer {
namespace {

TEST(ThreadPoolTest, ExceptionIsRethrownAfterEveryWorkerFinished) {
  ThreadPool pool(3);
  std::atomic<int> finished{0};
  for (int thrower : {0, 1, 2}) {
    finished = 0;
    EXPECT_THROW(pool.ParallelFor(300,
                                  [&](int64_t, int64_t, int thread) {
                                    if (thread == thrower) throw std::runtime_error("chunk failed");
                                    ++finished;
                                  }),
                 std::runtime_error);
    EXPECT_EQ(finished.load(), 2) << "the other chunks ran to the end before the rethrow";
  }
  // The pool still works, in parallel, afterwards.
  std::atomic<int> calls{0};
  pool.ParallelFor(300, [&](int64_t, int64_t, int) { ++calls; });
  EXPECT_EQ(calls.load(), 3);
}

}  // namespace
}  // namespace dsinfer

namespace dsinfer {
namespace {

// Back-to-back jobs meet workers that are still spinning; jobs after a pause longer than
// the spin meet sleeping workers. Both must run every index exactly once, with no job's
// writes lost or seen late by the caller.
TEST(ThreadPoolTest, BackToBackAndAfterSleepJobsSeeEveryWrite) {
  ThreadPool pool(3);
  std::vector<int64_t> out(1000);
  for (int64_t round = 0; round < 2000; ++round) {
    const auto n = static_cast<int64_t>(1 + round % 997);
    pool.ParallelFor(n, [&](int64_t begin, int64_t end, int /*thread*/) {
      for (int64_t i = begin; i < end; ++i) out[static_cast<size_t>(i)] = round * 1000 + i;
    });
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(out[static_cast<size_t>(i)], round * 1000 + i) << "round " << round;
    }
    if (round % 500 == 499) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace
}  // namespace dsinfer

namespace dsinfer {
namespace {

// Balanced chunks: every index once, each chunk starting at a multiple of the grain and ending
// at one or at n, whichever thread takes it; back to back, so that a new job's runs never leak
// chunks of the previous one.
TEST(ThreadPoolTest, BalancedChunksCoverTheRangeOnceOnGrainBoundaries) {
  // 7 and 16 threads: runs of two lengths (the first grains % threads one grain longer), and
  // runs of none.
  for (const int threads : {1, 2, 3, 7, 16}) {
    ThreadPool pool(threads);
    for (int64_t round = 0; round < (threads > 3 ? 100 : 300); ++round) {
      const int64_t n = round * 13 % 211;
      const int64_t grain = 1 + round % 9;
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<int> bad_chunks{0};
      pool.ParallelForBalanced(n, grain, [&](int64_t begin, int64_t end, int thread) {
        if (begin % grain != 0 || (end % grain != 0 && end != n) || begin >= end) ++bad_chunks;
        if (thread < 0 || thread >= threads) ++bad_chunks;
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)]++;
      });
      ASSERT_EQ(bad_chunks.load(), 0) << "threads=" << threads << " n=" << n;
      for (auto& h : hits) ASSERT_EQ(h.load(), 1) << "threads=" << threads << " n=" << n;
    }
  }
}

// A run's chunks tile it, each a quarter of what is left (at least one grain), so they shrink
// towards the back, down to one grain; a run too long for kMaxRunChunks ends in one chunk of
// the rest.
TEST(ThreadPoolTest, RunsSplitIntoChunksThatShrinkTowardsTheBack) {
  int64_t bounds[ThreadPool::kMaxRunChunks + 1];
  EXPECT_EQ(ThreadPool::SplitRun(7, 7, bounds), 0);
  for (const int64_t length : {1, 2, 3, 4, 5, 17, 100, 280, 1000, 100000}) {
    const int count = ThreadPool::SplitRun(10, 10 + length, bounds);
    ASSERT_GE(count, 1);
    ASSERT_LE(count, ThreadPool::kMaxRunChunks);
    EXPECT_EQ(bounds[0], 10);
    EXPECT_EQ(bounds[count], 10 + length);
    for (int c = 0; c < count; ++c) {
      const int64_t left = 10 + length - bounds[c];
      EXPECT_EQ(bounds[c + 1] - bounds[c], std::max<int64_t>(1, left / 4))
          << "length " << length << " chunk " << c;
    }
    EXPECT_EQ(bounds[count] - bounds[count - 1], 1) << "length " << length;
  }
  EXPECT_EQ(ThreadPool::SplitRun(0, 280, bounds), 21);  // 70, 52, 39, 29, ... 1
  const int64_t huge = int64_t{1} << 40;
  ASSERT_EQ(ThreadPool::SplitRun(0, huge, bounds), ThreadPool::kMaxRunChunks);
  EXPECT_EQ(bounds[ThreadPool::kMaxRunChunks], huge);
  EXPECT_EQ(bounds[1], huge / 4);
}

// The chunk of a balanced job that starts at `begin`: its owner (whose static share of the
// grains holds it) and its index in the owner's run.
struct RunChunk {
  int owner = -1;
  int index = -1;
};

RunChunk FindRunChunk(int64_t begin, int64_t grain, int64_t grains, int threads) {
  for (int t = 0; t < threads; ++t) {
    int64_t first = 0, last = 0;
    ThreadPool::ChunkRange(grains, 1, threads, t, &first, &last);
    int64_t bounds[ThreadPool::kMaxRunChunks + 1];
    const int count = ThreadPool::SplitRun(first, last, bounds);
    for (int c = 0; c < count; ++c) {
      if (bounds[c] * grain == begin) return {.owner = t, .index = c};
    }
  }
  return {};
}

// Each thread takes its own run (ChunkRange's share of the grains, so its reads stay one
// stream) front to back, and chunks of another's run only from that run's back, last first.
// Holds however the threads are timed, so it is checked over many jobs.
TEST(ThreadPoolTest, BalancedChunksTakeOwnRunInOrderAndOthersFromTheBack) {
  for (const int threads : {2, 3, 7}) {
    ThreadPool pool(threads);
    for (int round = 0; round < 200; ++round) {
      const int64_t n = 50 + round * 7 % 400;
      const int64_t grain = 1 + round % 5;
      const int64_t grains = (n + grain - 1) / grain;
      std::vector<std::vector<int64_t>> taken(static_cast<size_t>(threads));
      pool.ParallelForBalanced(n, grain, [&](int64_t begin, int64_t, int thread) {
        taken[static_cast<size_t>(thread)].push_back(begin);  // one writer per vector
      });
      for (int t = 0; t < threads; ++t) {
        int next_own = 0;
        std::vector<int> last_stolen(static_cast<size_t>(threads), ThreadPool::kMaxRunChunks + 1);
        for (const int64_t begin : taken[static_cast<size_t>(t)]) {
          const RunChunk chunk = FindRunChunk(begin, grain, grains, threads);
          ASSERT_GE(chunk.owner, 0) << "n=" << n << ": no chunk starts at " << begin;
          if (chunk.owner == t) {
            ASSERT_EQ(chunk.index, next_own)
                << "threads=" << threads << " n=" << n << " thread " << t;
            ++next_own;
            continue;
          }
          ASSERT_LT(chunk.index, last_stolen[static_cast<size_t>(chunk.owner)])
              << "threads=" << threads << " n=" << n << " thread " << t << " stole out of order";
          last_stolen[static_cast<size_t>(chunk.owner)] = chunk.index;
        }
      }
    }
  }
}

// A thread that is slow on its first chunk leaves the rest of the job to the others.
TEST(ThreadPoolTest, BalancedChunksGoToTheFreeThread) {
  ThreadPool pool(2);
  std::atomic<int64_t> indices_of[2] = {0, 0};
  pool.ParallelForBalanced(64, 1, [&](int64_t begin, int64_t end, int thread) {
    if (begin == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    indices_of[thread] += end - begin;
  });
  // Index 0 starts the caller's run, [0, 32), whose first chunk is [0, 8): the thread that took
  // it slept through the rest, which the other took.
  EXPECT_EQ(indices_of[0].load() + indices_of[1].load(), 64);
  EXPECT_GE(std::max(indices_of[0].load(), indices_of[1].load()), 56);
}

TEST(ThreadPoolTest, BalancedChunkExceptionIsRethrownAfterTheOthersFinish) {
  ThreadPool pool(2);
  std::atomic<int> ran{0};
  // 10 grains: runs of 5, each split into 5 chunks of one grain.
  EXPECT_THROW(pool.ParallelForBalanced(100, 10,
                                        [&](int64_t begin, int64_t, int) {
                                          if (begin == 50) throw std::runtime_error("chunk failed");
                                          ++ran;
                                        }),
               std::runtime_error);
  // The thread that threw stopped taking chunks; the other finished what was left before the
  // rethrow: every chunk but the one that threw ran, once.
  EXPECT_EQ(ran.load(), 9);
  std::atomic<int64_t> total{0};
  pool.ParallelForBalanced(100, 10, [&](int64_t b, int64_t e, int) { total += e - b; });
  EXPECT_EQ(total.load(), 100);
}

}  // namespace
}  // namespace dsinfer

namespace dsinfer {
namespace {

// Polls `pred` every millisecond for up to `limit`; whether it held.
template <typename Pred>
bool Within(std::chrono::milliseconds limit, Pred pred) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// An idle worker sleeps once its spin is over; told that work will follow, a sleeping worker
// wakes and spins until the deadline, then sleeps again. Limits are generous: two test
// processes share two cores under ctest -j2.
TEST(ThreadPoolTest, WorkersSpinUntilTheExpectedWorkThenSleep) {
  ThreadPool pool(2);
  std::atomic<int> runs{0};
  const auto job = [&](int64_t, int64_t, int) { ++runs; };
  pool.ParallelFor(2, job);
  ASSERT_TRUE(Within(std::chrono::milliseconds(5000), [&] { return pool.sleeping_workers() == 1; }))
      << "an idle worker never slept";

  pool.ExpectWorkWithin(std::chrono::milliseconds(800));
  ASSERT_TRUE(Within(std::chrono::milliseconds(500), [&] { return pool.sleeping_workers() == 0; }))
      << "the expected work did not wake the worker";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // far past kWorkerSpin
  EXPECT_EQ(pool.sleeping_workers(), 0) << "the worker slept before the expected work";
  pool.ParallelFor(2, job);
  EXPECT_TRUE(Within(std::chrono::milliseconds(5000), [&] { return pool.sleeping_workers() == 1; }))
      << "the worker never slept after the deadline";
  pool.ParallelFor(2, job);
  EXPECT_EQ(runs.load(), 6);
}

// A caller that outwaits its spin sleeps, and the last worker to finish must wake it.
TEST(ThreadPoolTest, CallerThatSleepsIsWokenByTheLastWorker) {
  ThreadPool pool(3);
  for (int round = 0; round < 3; ++round) {
    std::atomic<int> done{0};
    pool.ParallelFor(3, [&](int64_t, int64_t, int thread) {
      if (thread != 0) std::this_thread::sleep_for(std::chrono::milliseconds(5 * (1 + thread)));
      ++done;
    });
    EXPECT_EQ(done.load(), 3) << "round " << round;
  }
}

// Jobs whose lengths, and pauses between which, straddle the spin (~50-100 us), so that the
// workers and the caller go to sleep at every moment of a hand-off; every third pause is
// announced by an ExpectWorkWithin that ends before, around or after the next job. A lost
// wake-up hangs here (ctest's timeout); a job that starts early or ends late loses writes.
TEST(ThreadPoolTest, HandOffsAroundTheSpinLoseNoWakeUp) {
  ThreadPool pool(3);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> micros(0, 300);
  std::vector<int64_t> out(3);
  for (int64_t round = 0; round < 400; ++round) {
    const int worker_us = micros(rng);
    const int caller_us = micros(rng);
    pool.ParallelFor(3, [&](int64_t begin, int64_t end, int thread) {
      const int us = thread == 0 ? caller_us : worker_us;
      std::this_thread::sleep_for(std::chrono::microseconds(us));
      for (int64_t i = begin; i < end; ++i) out[static_cast<size_t>(i)] = round;
    });
    for (const int64_t v : out) ASSERT_EQ(v, round);
    const int pause_us = micros(rng);
    if (round % 3 == 0) pool.ExpectWorkWithin(std::chrono::microseconds(micros(rng)));
    std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
  }
}

}  // namespace
}  // namespace dsinfer
