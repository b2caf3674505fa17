// SafetensorsWriter: writes one .safetensors file (layout in safetensors_file.h) the way the
// reference writer (huggingface/safetensors, used by torch's save_file and save_pretrained)
// does, streamed: tensors are declared first, the header is written, then tensor bytes are
// written in any order and any number of pieces, so a writer never holds a whole model.
//
// What matches the reference, so Python's safe_open reads our files and vice versa:
//   * tensors sorted by dtype, largest element first (the reference's Dtype order: I64, F64,
//     F32, I32, BF16, F16, I16, F8_E4M3, F8_E5M2, I8, U8, BOOL), then by name; data packed
//     with no holes, so every tensor starts at a multiple of its element size;
//   * header keys in that order after "__metadata__" ({"format": "pt"} unless set otherwise),
//     compact JSON, padded with spaces so that 8 + header length is a multiple of 8.
//
// Use: AddTensor... AddMetadata... Open(path), then Write(name, bytes) tensor after tensor in
// file order (tensor_order()), each in as many pieces as convenient, then Commit() (renames
// "<path>.tmp" into place; fails if a byte is missing). Writing out of order is an error
// naming both tensors: the file is written front to back, never seeked. Destroying an
// uncommitted writer removes the temporary file.
//
// Thread safety: none; one writer per thread.
#ifndef DSINFER_FORMATS_SAFETENSORS_WRITER_H_
#define DSINFER_FORMATS_SAFETENSORS_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "platform/atomic_file_writer.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"

namespace dsinfer {

class SafetensorsWriter {
 public:
  SafetensorsWriter() = default;

  // Declares a tensor; `shape` outermost-first (PyTorch order). InvalidArgument for an empty,
  // duplicate or reserved ("__metadata__") name, a dtype safetensors cannot name (ggml block
  // types), or a bad shape; FailedPrecondition after Open.
  Status AddTensor(std::string name, DType dtype, Shape shape);
  // A "__metadata__" entry (string -> string); a repeated key replaces the earlier value.
  Status AddMetadata(std::string key, std::string value);

  // Lays the tensors out, creates "<path>.tmp" and writes the header.
  Status Open(const std::string& path);

  // The next data.size() bytes of tensor `name`, which must be the first incomplete one in
  // tensor_order() (a tensor may be written in pieces).
  Status Write(std::string_view name, std::span<const std::byte> data);

  // Every tensor must be complete; then the file is renamed into place.
  Status Commit();

  // After Open: the whole file's size and the header's serialized length (without the u64).
  uint64_t file_size() const { return data_start_ + data_size_; }
  uint64_t header_size() const { return data_start_ - 8; }
  // Bytes of one declared tensor; nullopt for an unknown name.
  std::optional<uint64_t> TensorBytes(std::string_view name) const;
  // After Open: tensor names in the order their bytes are stored (and must be written).
  std::vector<std::string> tensor_order() const;

 private:
  struct Pending {
    std::string name;
    DType dtype;
    Shape shape;
    uint64_t n_bytes = 0;
    uint64_t written = 0;  // bytes written so far
  };

  std::vector<Pending> tensors_;
  std::unordered_map<std::string, size_t> index_;  // name -> tensors_ index
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::vector<size_t> order_;  // tensors_ indices in file order, after Open
  size_t next_ = 0;            // position in order_ of the tensor being written
  std::optional<AtomicFileWriter> file_;
  uint64_t data_start_ = 0;
  uint64_t data_size_ = 0;
};

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_SAFETENSORS_WRITER_H_
