// TensorView: a non-owning, read-only view of a dense tensor's bytes (usually in an mmap).
//
// Whoever hands out a view keeps its bytes alive (the GGUF/safetensors file object). For a
// quantised dtype the view is a sequence of rows, each RowBytes(dtype, inner) bytes.
#ifndef DSINFER_TENSOR_TENSOR_VIEW_H_
#define DSINFER_TENSOR_TENSOR_VIEW_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "tensor/dtype.h"
#include "tensor/shape.h"

namespace dsinfer {

struct TensorView {
  DType dtype = DType::kF32;
  Shape shape;
  std::span<const std::byte> bytes;  // exactly shape.NumBytes(dtype) bytes

  int64_t num_rows() const {
    if (shape.rank() == 0) return 1;
    return shape.inner() == 0 ? 0 : *shape.NumElements() / shape.inner();
  }
  int64_t row_bytes() const {
    const int64_t rows = num_rows();
    return rows == 0 ? 0 : static_cast<int64_t>(bytes.size()) / rows;
  }
  std::span<const std::byte> Row(int64_t i) const {
    DSI_DCHECK(i >= 0 && i < num_rows());
    return bytes.subspan(static_cast<size_t>(i * row_bytes()), static_cast<size_t>(row_bytes()));
  }
  template <typename T>
  std::span<const T> As() const {
    return {reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T)};
  }
};

}  // namespace dsinfer

#endif  // DSINFER_TENSOR_TENSOR_VIEW_H_
