// ForRange: fn(begin, end) over [0, n), split over a ThreadPool in chunks whose starts are
// multiples of `grain`, or inline when there is no pool (or one thread). The one way kernels
// split rows over threads.
#ifndef DSINFER_KERNELS_FOR_RANGE_H_
#define DSINFER_KERNELS_FOR_RANGE_H_

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

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_FOR_RANGE_H_
