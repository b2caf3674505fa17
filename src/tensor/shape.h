// Shape: up to kMaxRank dimensions, outermost first (PyTorch / numpy order).
//
// A weight stored as ggml {ne0 = in, ne1 = out} is Shape{out, in}: the last dimension is the
// contiguous one. Element and byte counts are checked for int64 overflow because shapes come
// from untrusted files.
#ifndef DSINFER_TENSOR_SHAPE_H_
#define DSINFER_TENSOR_SHAPE_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>

#include "base/status.h"
#include "tensor/dtype.h"

namespace dsinfer {

class Shape {
 public:
  static constexpr int kMaxRank = 8;

  Shape() = default;  // rank 0: a scalar with one element
  Shape(std::initializer_list<int64_t> dims);
  // Fails on rank > kMaxRank or a negative dimension.
  static StatusOr<Shape> FromDims(std::span<const int64_t> dims);
  // ggml order (ne0 first) to outermost-first.
  static StatusOr<Shape> FromGgmlNe(std::span<const int64_t> ne);

  int rank() const { return rank_; }
  int64_t dim(int i) const;
  std::span<const int64_t> dims() const { return {dims_.data(), static_cast<size_t>(rank_)}; }
  // Innermost (contiguous) dimension; 1 for a scalar.
  int64_t inner() const { return rank_ == 0 ? 1 : dims_[rank_ - 1]; }

  // nullopt on int64 overflow.
  std::optional<int64_t> NumElements() const;
  // Bytes of a dense tensor of `dtype`: fails if the inner dimension is not a multiple of the
  // block size or on overflow.
  StatusOr<int64_t> NumBytes(DType dtype) const;

  std::string ToString() const;  // "[4096, 11008]"

  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.rank_ != b.rank_) return false;
    for (int i = 0; i < a.rank_; ++i) {
      if (a.dims_[i] != b.dims_[i]) return false;
    }
    return true;
  }

 private:
  int rank_ = 0;
  std::array<int64_t, kMaxRank> dims_{};
};

}  // namespace dsinfer

#endif  // DSINFER_TENSOR_SHAPE_H_
