// AlignedBuffer: an owning, move-only, over-aligned byte buffer.
//
// Kernels want 64-byte alignment (one cache line, one AVX-512 register). Copies of big
// buffers must be visible in the code, so there is no copy constructor: call Copy().
#ifndef DSINFER_BASE_ALIGNED_BUFFER_H_
#define DSINFER_BASE_ALIGNED_BUFFER_H_

#include <cstddef>
#include <span>

namespace dsinfer {

class AlignedBuffer {
 public:
  static constexpr size_t kDefaultAlignment = 64;

  AlignedBuffer() = default;
  // Allocates `size` bytes, zero-filled. `alignment` must be a power of two.
  explicit AlignedBuffer(size_t size, size_t alignment = kDefaultAlignment);
  ~AlignedBuffer();

  AlignedBuffer(AlignedBuffer&& other) noexcept;
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  AlignedBuffer Copy() const;

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  size_t alignment() const { return alignment_; }
  bool empty() const { return size_ == 0; }

  std::span<std::byte> bytes() { return {data_, size_}; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }

  template <typename T>
  T* as() {
    return reinterpret_cast<T*>(data_);
  }
  template <typename T>
  const T* as() const {
    return reinterpret_cast<const T*>(data_);
  }

 private:
  std::byte* data_ = nullptr;
  size_t size_ = 0;
  size_t alignment_ = kDefaultAlignment;
};

}  // namespace dsinfer

#endif  // DSINFER_BASE_ALIGNED_BUFFER_H_
