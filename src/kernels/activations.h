// The activation rows of a matmul converted to the weight type's vec_dot_type (Q8_0, Q8_K,
// F16, ...), in a buffer owned by the calling thread: decode calls a matmul hundreds of times
// per token, and a fresh allocation each time showed up as page faults on the large layers.
//
// The pointer returned stays valid until the calling thread's next call; rows are
// `row_bytes` apart. Rows are converted in parallel over `pool` when there is more than one.
// Thread safety: one buffer per thread; callers must not hold a previous result across calls.
#ifndef DSINFER_KERNELS_ACTIVATIONS_H_
#define DSINFER_KERNELS_ACTIVATIONS_H_

#include <cstddef>
#include <cstdint>

#include "base/status.h"
#include "kernels/for_range.h"
#include "kernels/kernel_table.h"
#include "platform/thread_pool.h"

namespace dsinfer::kernels {

struct QuantizedActivations {
  const std::byte* data = nullptr;
  int64_t row_bytes = 0;
  const Q8_0BlockTerms* terms = nullptr;  // Q8_0 rows' block terms, where they were made
};

StatusOr<QuantizedActivations> QuantizeActivations(const KernelTable& table, DType vec_dot_type,
                                                   const float* x, int64_t n_tokens, int64_t n_in,
                                                   ThreadPool* pool);

// The same conversion into the caller's `out` (n_tokens rows of RowBytes(vec_dot_type, n_in)),
// for callers that hold several converted inputs at once. Where vec_dot_type is Q8_0 and
// `terms` is not null, each row's block terms go there too (n_in / 32 per row), for the packed
// bodies.
Status QuantizeActivationsInto(const KernelTable& table, DType vec_dot_type, const float* x,
                               int64_t n_tokens, int64_t n_in, std::byte* out, ThreadPool* pool,
                               Q8_0BlockTerms* terms = nullptr);

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_ACTIVATIONS_H_
