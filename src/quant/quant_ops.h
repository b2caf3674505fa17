// The reference (scalar) quantisation formats: quantise, dequantise and dot product per type.
//
// These are the oracle that every fast kernel is tested against, and the code that writes
// model files: QuantizeRow reproduces the bytes of ggml's reference quantisers (what
// llama-quantize writes without an importance matrix), so files we write are the files
// llama.cpp would write. VecDot multiplies a weight row with an activation row already
// quantised to `vec_dot_type` (Q8_0, Q8_1 or Q8_K, as ggml pairs them), accumulating in the
// same order as ggml's generic code.
//
// Thread safety: pure functions over caller-owned memory.
#ifndef DSINFER_QUANT_QUANT_OPS_H_
#define DSINFER_QUANT_QUANT_OPS_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/status.h"
#include "tensor/dtype.h"

namespace dsinfer {

// `n` is the number of elements, a multiple of the type's block size.
using QuantizeRowFn = void (*)(const float* x, void* blocks, int64_t n);
using DequantizeRowFn = void (*)(const void* blocks, float* y, int64_t n);
using VecDotFn = float (*)(int64_t n, const void* weight_blocks, const void* activation_blocks);

struct QuantOps {
  DType dtype;
  QuantizeRowFn quantize;  // null for types dsinfer reads but does not write (the lattice types)
  DequantizeRowFn dequantize;
  VecDotFn vec_dot;    // null for activation-only types
  DType vec_dot_type;  // what activations are quantised to for vec_dot
};

// Ops for F32, F16, BF16 and the supported ggml block types; nullptr for any other dtype.
const QuantOps* FindQuantOps(DType dtype);

// The error for a type that has a vec_dot but no quantiser (dsinfer reads it, cannot write it).
Status ReadOnlyTypeError(DType dtype);

// Row-wise helpers with size checks: `src` holds rows of `n_per_row` floats; `dst` must hold
// exactly the quantised bytes of those rows.
Status QuantizeRows(DType dtype, std::span<const float> src, int64_t n_per_row,
                    std::span<std::byte> dst);
Status DequantizeRows(DType dtype, std::span<const std::byte> src, int64_t n_per_row,
                      std::span<float> dst);

}  // namespace dsinfer

#endif  // DSINFER_QUANT_QUANT_OPS_H_
