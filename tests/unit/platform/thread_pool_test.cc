#include "platform/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
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

// Dynamic chunks: every index once, each call one whole chunk starting at a multiple of the
// chunk size (the last one shorter), whichever thread takes it; back to back, so that a new
// job's counter never leaks chunks of the previous one.
TEST(ThreadPoolTest, DynamicChunksCoverTheRangeOnceInWholeChunks) {
  for (const int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t round = 0; round < 300; ++round) {
      const int64_t n = round * 13 % 211;
      const int64_t chunk = 1 + round % 9;
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<int> bad_chunks{0};
      pool.ParallelForDynamic(n, chunk, [&](int64_t begin, int64_t end, int thread) {
        const bool inline_call = begin == 0 && end == n;
        if (!inline_call && (begin % chunk != 0 || (end - begin != chunk && end != n))) {
          ++bad_chunks;
        }
        if (thread < 0 || thread >= threads) ++bad_chunks;
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)]++;
      });
      ASSERT_EQ(bad_chunks.load(), 0) << "threads=" << threads << " n=" << n;
      for (auto& h : hits) ASSERT_EQ(h.load(), 1) << "threads=" << threads << " n=" << n;
    }
  }
}

// Each thread takes its own contiguous run of chunks front to back (ChunkRange's share of the
// chunks, so its reads stay one stream), and chunks of another's run only from that run's back,
// last first. Holds however the threads are timed, so it is checked over many jobs.
TEST(ThreadPoolTest, DynamicChunksTakeOwnRunInOrderAndOthersFromTheBack) {
  for (const int threads : {2, 3}) {
    ThreadPool pool(threads);
    for (int round = 0; round < 200; ++round) {
      const int64_t n = 50 + round * 7 % 400;
      const int64_t chunk = 1 + round % 5;
      const int64_t chunks = (n + chunk - 1) / chunk;
      std::vector<std::vector<int64_t>> taken(static_cast<size_t>(threads));
      pool.ParallelForDynamic(n, chunk, [&](int64_t begin, int64_t, int thread) {
        taken[static_cast<size_t>(thread)].push_back(begin / chunk);  // one writer per vector
      });
      for (int t = 0; t < threads; ++t) {
        int64_t first = 0, last = 0;
        ThreadPool::ChunkRange(chunks, 1, threads, t, &first, &last);
        int64_t next_own = first;
        std::vector<int64_t> last_stolen(static_cast<size_t>(threads), chunks);
        for (const int64_t c : taken[static_cast<size_t>(t)]) {
          if (c >= first && c < last) {
            ASSERT_EQ(c, next_own) << "threads=" << threads << " n=" << n << " thread " << t;
            ++next_own;
            continue;
          }
          int owner = 0;
          for (int o = 0; o < threads; ++o) {
            int64_t f = 0, l = 0;
            ThreadPool::ChunkRange(chunks, 1, threads, o, &f, &l);
            if (c >= f && c < l) owner = o;
          }
          ASSERT_LT(c, last_stolen[static_cast<size_t>(owner)])
              << "threads=" << threads << " n=" << n << " thread " << t << " stole out of order";
          last_stolen[static_cast<size_t>(owner)] = c;
        }
      }
    }
  }
}

// A thread that is slow on its first chunk leaves the rest to the others.
TEST(ThreadPoolTest, DynamicChunksGoToTheFreeThread) {
  ThreadPool pool(2);
  std::atomic<int> chunks_of[2] = {0, 0};
  pool.ParallelForDynamic(64, 1, [&](int64_t begin, int64_t, int thread) {
    if (begin == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ++chunks_of[thread];
  });
  // Chunk 0 went to one thread, which slept through (nearly) all the other 63.
  EXPECT_EQ(chunks_of[0].load() + chunks_of[1].load(), 64);
  EXPECT_GE(std::max(chunks_of[0].load(), chunks_of[1].load()), 60);
}

TEST(ThreadPoolTest, DynamicChunkExceptionIsRethrownAfterTheOthersFinish) {
  ThreadPool pool(2);
  std::atomic<int> ran{0};
  EXPECT_THROW(pool.ParallelForDynamic(100, 10,
                                       [&](int64_t begin, int64_t, int) {
                                         if (begin == 50) throw std::runtime_error("chunk failed");
                                         ++ran;
                                       }),
               std::runtime_error);
  // The thread that threw stopped taking chunks; the other finished what was left before the
  // rethrow: every chunk but the one that threw ran, once.
  EXPECT_EQ(ran.load(), 9);
  std::atomic<int64_t> total{0};
  pool.ParallelForDynamic(100, 10, [&](int64_t b, int64_t e, int) { total += e - b; });
  EXPECT_EQ(total.load(), 100);
}

}  // namespace
}  // namespace dsinfer
