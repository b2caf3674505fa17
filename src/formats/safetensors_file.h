// SafetensorsFile: one .safetensors file, validated and exposed as read-only tensor views.
//
// Layout (the format of huggingface/safetensors):
//
//   +-------------+----------------------------------+--------------------------------+
//   | u64 LE  N   | N bytes of UTF-8 JSON (the header,| tensor data; every tensor's   |
//   |             | padded with spaces so that 8 + N  | data_offsets are relative to  |
//   |             | is a multiple of 8)               | the first byte here           |
//   +-------------+----------------------------------+--------------------------------+
//   0             8                                  8 + N = data_offset()
//
// The header maps tensor name -> {"dtype": "BF16", "shape": [out, in], "data_offsets": [b, e]}
// plus an optional "__metadata__" object of string -> string. The reference writer (the Rust
// safetensors library) pads the header and stores tensors in descending element size, so
// every tensor starts at a file offset that is a multiple of its element size.
//
// Contract:
//  * The bytes are untrusted. Parse() never crashes, never reads outside them, and allocates
//    nothing sized by a number from the file before checking it against the file size; any
//    defect is a DataLoss Status whose message starts with the file name and names the tensor
//    and the problem. The header JSON goes through a SAX pre-pass (nesting deeper than the
//    format's 3 levels, duplicate keys) before a DOM is built, so a hostile header costs
//    memory in proportion to its size, not its nesting.
//  * After a successful Parse/Open, for every tensor: the dtype is a plain safetensors dtype,
//    the shape is valid (rank <= Shape::kMaxRank, no overflow), data_end - data_begin equals
//    the dense byte size, the range lies inside the data section, no two non-empty ranges
//    overlap, and data_offset() + data_begin is a multiple of the element size (empty tensors
//    included). Holes between tensors and trailing bytes are allowed (the Rust reference
//    rejects them; we accept them because they are harmless to a reader); an unpadded header
//    is allowed as long as every tensor still lands aligned.
//  * Duplicate JSON keys (two tensors with one name, or a repeated field) are an error; plain
//    JSON parsers would silently keep the last one.
//  * Views point into the bytes; they stay valid while this object (or a copy/move of it)
//    lives, because it shares ownership of the bytes. A view's address is aligned to its
//    element size whenever bytes() starts at a multiple of 8 (a mapping starts on a page), so
//    kernels may reinterpret_cast it.
//
// Thread safety: immutable after construction; safe to share between threads.
#ifndef DSINFER_FORMATS_SAFETENSORS_FILE_H_
#define DSINFER_FORMATS_SAFETENSORS_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"
#include "tensor/tensor_view.h"

namespace dsinfer {

struct SafetensorsTensor {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
  // [data_begin, data_end) relative to the start of the data section (data_offset()).
  uint64_t data_begin = 0;
  uint64_t data_end = 0;
  TensorView view;  // exactly data_end - data_begin bytes
};

class SafetensorsFile {
 public:
  // The reference implementation refuses headers over 10^8 bytes; 100 MiB is our equivalent.
  static constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

  // Maps `path` and parses it; the mapping lives as long as the returned object.
  static StatusOr<SafetensorsFile> Open(const std::string& path);

  // Parses bytes already in memory. `keep_alive` owns them (null when the caller guarantees
  // they outlive the result). `name` prefixes every error message. Used by Open and the fuzzer.
  static StatusOr<SafetensorsFile> Parse(std::span<const std::byte> bytes, std::string name,
                                         std::shared_ptr<const void> keep_alive);

  const std::string& name() const { return name_; }
  size_t data_offset() const { return data_offset_; }
  size_t file_size() const { return bytes_.size(); }
  std::span<const std::byte> bytes() const { return bytes_; }
  // The owner of bytes(): hold it to keep views alive beyond this object.
  const std::shared_ptr<const void>& keep_alive() const { return keep_alive_; }

  // Sorted by name (byte-wise), not in header order: JSON objects have no reliable order and
  // a sorted list makes Find a binary search.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* Find(std::string_view name) const;

  // "__metadata__" entries, sorted by key.
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;

  std::string name_;
  std::shared_ptr<const void> keep_alive_;
  std::span<const std::byte> bytes_;
  size_t data_offset_ = 0;
  std::vector<SafetensorsTensor> tensors_;
  std::vector<std::pair<std::string, std::string>> metadata_;
};

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_SAFETENSORS_FILE_H_
