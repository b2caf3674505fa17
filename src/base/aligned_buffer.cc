#include "base/aligned_buffer.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "base/check.h"

namespace dsinfer {

AlignedBuffer::AlignedBuffer(size_t size, size_t alignment) : size_(size), alignment_(alignment) {
  DSI_CHECK_MSG(alignment != 0 && (alignment & (alignment - 1)) == 0,
                "alignment %zu is not a power of two", alignment);
  if (size == 0) return;
  if (size > SIZE_MAX - alignment) throw std::bad_alloc();  // the round-up would wrap
  // aligned_alloc needs a size that is a multiple of the alignment.
  const size_t rounded = (size + alignment - 1) / alignment * alignment;
  data_ = static_cast<std::byte*>(std::aligned_alloc(alignment, rounded));
  if (data_ == nullptr) throw std::bad_alloc();
  std::memset(data_, 0, rounded);
}

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

AlignedBuffer::AlignedBuffer(AlignedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      alignment_(other.alignment_) {}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    alignment_ = other.alignment_;
  }
  return *this;
}

AlignedBuffer AlignedBuffer::Copy() const {
  AlignedBuffer copy(size_, alignment_);
  if (size_ != 0) std::memcpy(copy.data_, data_, size_);
  return copy;
}

}  // namespace dsinfer
