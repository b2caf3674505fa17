#include "tensor/shape.h"

#include <limits>

#include <fmt/format.h>

namespace dsinfer {

Shape::Shape(std::initializer_list<int64_t> dims) {
  DSI_CHECK(dims.size() <= static_cast<size_t>(kMaxRank));
  for (int64_t d : dims) {
    DSI_CHECK(d >= 0);
    dims_[rank_++] = d;
  }
}

StatusOr<Shape> Shape::FromDims(std::span<const int64_t> dims) {
  if (dims.size() > static_cast<size_t>(kMaxRank)) {
    return InvalidArgumentError(
        fmt::format("rank {} exceeds the maximum of {}", dims.size(), kMaxRank));
  }
  Shape shape;
  for (int64_t d : dims) {
    if (d < 0) return InvalidArgumentError(fmt::format("negative dimension {}", d));
    shape.dims_[shape.rank_++] = d;
  }
  return shape;
}

StatusOr<Shape> Shape::FromGgmlNe(std::span<const int64_t> ne) {
  std::array<int64_t, kMaxRank> reversed{};
  if (ne.size() > reversed.size()) return FromDims(ne);  // reports the rank error
  for (size_t i = 0; i < ne.size(); ++i) reversed[i] = ne[ne.size() - 1 - i];
  return FromDims({reversed.data(), ne.size()});
}

int64_t Shape::dim(int i) const {
  DSI_CHECK_MSG(i >= 0 && i < rank_, "dim %d of a rank-%d shape", i, rank_);
  return dims_[i];
}

std::optional<int64_t> Shape::NumElements() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) {
    const int64_t d = dims_[i];
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return std::nullopt;
    n *= d;
  }
  return n;
}

StatusOr<int64_t> Shape::NumBytes(DType dtype) const {
  DSI_ASSIGN_OR_RETURN(const int64_t row_bytes, RowBytes(dtype, inner()));
  int64_t rows = 1;
  for (int i = 0; i + 1 < rank_; ++i) {
    const int64_t d = dims_[i];
    if (d != 0 && rows > std::numeric_limits<int64_t>::max() / d) {
      return InvalidArgumentError(fmt::format("shape {} overflows", ToString()));
    }
    rows *= d;
  }
  if (row_bytes != 0 && rows > std::numeric_limits<int64_t>::max() / row_bytes) {
    return InvalidArgumentError(
        fmt::format("shape {} of {} overflows", ToString(), DTypeName(dtype)));
  }
  return rows * row_bytes;
}

std::string Shape::ToString() const {
  std::string out = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(dims_[i]);
  }
  out += "]";
  return out;
}

}  // namespace dsinfer
