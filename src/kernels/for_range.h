// ForRange: fn(begin, end) over [0, n), split over a ThreadPool in chunks whose starts are
// multiples of `grain`, or inline when there is no pool (or one thread). The one way kernels
// split rows over threads.
#ifndef DSINFER_KERNELS_FOR_RANGE_H_
#define DSINFER_KERNELS_FOR_RANGE_H_

#include <algorithm>
#include <cstdint>

#include "platform/thread_pool.h"

namespace dsinfer::kernels {

template <typename Fn>
void ForRange(ThreadPool* pool, int64_t n, Fn&& fn, int64_t grain = 1) {
  if (pool == nullptr || pool->num_threads() <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  pool->ParallelFor(
      n, [&fn](int64_t begin, int64_t end, int /*thread*/) { fn(begin, end); }, grain);
}

// ForRange for memory-bound loops (multiples of `grain`): each thread's share in chunks that
// shrink towards its end, taken in order, and then the others' leftovers
// (ThreadPool::ParallelForBalanced), so that threads that get unequal shares of the memory
// bandwidth still finish together.
template <typename Fn>
void ForRangeBalanced(ThreadPool* pool, int64_t n, Fn&& fn, int64_t grain = 1) {
  if (pool == nullptr || pool->num_threads() <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  pool->ParallelForBalanced(n, grain,
                            [&fn](int64_t begin, int64_t end, int /*thread*/) { fn(begin, end); });
}

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_FOR_RANGE_H_
