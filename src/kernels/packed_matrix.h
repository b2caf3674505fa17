// A weight matrix repacked at load for the decode matvec (packed_layout.h): rows in groups of
// 8 interleaved block by block, then the n_out % 8 tail rows in ggml's layout. Where the kernels
// run the group tiles on long rows, rows longer than kLongestUnslicedRow are stored in column
// slices, four groups' slices at a time, each slice's sums added in slice order
// (packed_row_slices.h, PackedRowSlices).
//
//   PackedMatrix::Pack(weight)  copies a weight into that layout if the kernel level has a
//                               packed body for its dtype (Q4_0, Q5_0, Q8_0, Q2_K .. Q6_K at
//                               avx2 and avx512)
//   MatMulPacked(view, x, ...)  y = x * weight^T, the contract of kernels::MatMul
//
// Memory: the packed copy is the size of the weight (+2.3 to +3.6 % for Q3_K, Q4_K and Q5_K,
// whose scales are unpacked); once it exists the
// source bytes are no longer read (an mmapped file's pages become reclaimable). A dtype
// without a packed body is not copied: the PackedMatrix keeps the caller's view, which must
// then outlive it, and MatMulPacked runs kernels::MatMul on it.
// Numerics: as kernels::MatMul (same activation bytes; each output one block-exact dot, or one
// per slice, added in order), and
// batch-invariant: a token's outputs are bit-identical whatever other tokens share the call
// (the gemm over several tokens runs the matvec's per-token float operations, in tiles that
// load each weight vector once for all their tokens).
// Thread safety: immutable after Pack; MatMulPacked as MatMul.
#ifndef DSINFER_KERNELS_PACKED_MATRIX_H_
#define DSINFER_KERNELS_PACKED_MATRIX_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/aligned_buffer.h"
#include "base/status.h"
#include "kernels/kernel_table.h"
#include "platform/thread_pool.h"
#include "tensor/tensor_view.h"

namespace dsinfer::kernels {

// The bytes of a packed weight, wherever they live (a PackedMatrix, an arena, a benchmark's
// buffer). When `packed` is false, `bytes` is the weight in ggml's row-major layout.
struct PackedMatrixView {
  DType dtype = DType::kF32;
  bool packed = false;
  int64_t n_out = 0;
  int64_t n_in = 0;
  std::span<const std::byte> bytes;
};

// Whether `table` has a packed body for `dtype`: the weights Pack copies into the x8 layout.
bool CanPack(DType dtype, const KernelTable& table = Kernels());

// Bytes that a packed [n_out, n_in] weight of `dtype` occupies (groups + tail rows).
StatusOr<int64_t> PackedMatrixBytes(DType dtype, int64_t n_out, int64_t n_in);

class PackedMatrix {
 public:
  // Packs a rank-2 `weight` for `table`'s level. InvalidArgument for a bad view (as MatMul).
  static StatusOr<PackedMatrix> Pack(const TensorView& weight,
                                     const KernelTable& table = Kernels());

  PackedMatrixView view() const { return view_; }
  // Bytes this object owns (0 when it only keeps the caller's view).
  size_t owned_bytes() const { return storage_.size(); }

 private:
  AlignedBuffer storage_;
  PackedMatrixView view_;
};

// Writes the packed form of `weight` into `out` (PackedMatrixBytes bytes), splitting the
// groups over `pool` when there is one; for tests, benchmarks and loaders with own arenas.
Status PackInto(const TensorView& weight, std::span<std::byte> out, ThreadPool* pool = nullptr);

// y = x * weight^T: x [n_tokens, n_in] F32, y [n_tokens, n_out]. `table` must be the level
// the matrix was packed for (or any level with the same packed body). `pool` may be null.
Status MatMulPacked(const PackedMatrixView& weight, std::span<const float> x, int64_t n_tokens,
                    std::span<float> y, ThreadPool* pool, const KernelTable& table = Kernels());

// One product of MatMulPackedBatch: y [n_tokens, n_out] = x [n_tokens, n_in] * weight^T.
struct PackedProduct {
  PackedMatrixView weight;
  std::span<const float> x;
  int64_t n_tokens = 0;
  std::span<float> y;
};

// Every product of `products` in one parallel loop over all their packed row groups, so that a
// decode step pays one dispatch and one wait for q, k and v, or for the gate and up of every
// selected expert, instead of one per weight. Products that read the same x (the same floats,
// tokens and activation type) share one conversion of it. A weight in row layout runs its own
// MatMul. Each y is bit-identical to MatMulPacked of its product alone.
Status MatMulPackedBatch(std::span<const PackedProduct> products, ThreadPool* pool,
                         const KernelTable& table = Kernels());

}  // namespace dsinfer::kernels

#endif  // DSINFER_KERNELS_PACKED_MATRIX_H_
