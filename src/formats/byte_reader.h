// ByteReader: a bounds-checked little-endian cursor over untrusted bytes.
//
// Every read either succeeds completely or returns false and leaves the cursor where it
// was; the caller turns false into a Status naming what it was reading. No read can go
// past the end of the span, whatever lengths the file claims.
#ifndef DSINFER_FORMATS_BYTE_READER_H_
#define DSINFER_FORMATS_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

namespace dsinfer {

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> bytes) : bytes_(bytes) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }
  size_t size() const { return bytes_.size(); }

  // Reads a trivially copyable little-endian value (this project targets little-endian x86).
  template <typename T>
  bool Read(T* out) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (remaining() < sizeof(T)) return false;
    std::memcpy(out, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }

  // A view of the next `n` bytes, without copying.
  bool ReadBytes(uint64_t n, std::span<const std::byte>* out) {
    if (n > remaining()) return false;
    *out = bytes_.subspan(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }

  bool ReadString(uint64_t n, std::string_view* out) {
    std::span<const std::byte> raw;
    if (!ReadBytes(n, &raw)) return false;
    *out = std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size());
    return true;
  }

  bool Skip(uint64_t n) {
    if (n > remaining()) return false;
    pos_ += static_cast<size_t>(n);
    return true;
  }

 private:
  std::span<const std::byte> bytes_;
  size_t pos_ = 0;
};

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_BYTE_READER_H_
