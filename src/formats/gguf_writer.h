// GgufWriter: writes a GGUF v3 file as llama.cpp's writers do (ggml gguf.cpp and gguf-py):
// header, metadata in insertion order, tensor infos, zero padding to the alignment, then each
// tensor's bytes followed by zero padding to the alignment. Reading a file written that way
// and writing it back with the same metadata and tensors gives identical bytes.
//
// The alignment is general.alignment when that key is added, else 32. Tensor data can be
// borrowed (a span the caller keeps alive until Write returns: e.g. a view of a mapped
// input file) or owned by the writer.
//
// Thread safety: none; one writer per thread.
#ifndef DSINFER_FORMATS_GGUF_WRITER_H_
#define DSINFER_FORMATS_GGUF_WRITER_H_

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "formats/gguf_file.h"
#include "formats/gguf_value.h"
#include "tensor/dtype.h"

namespace dsinfer {

class GgufWriter {
 public:
  // GGUF version 3 (current) or 2 (same layout; for byte-identical rewrites of v2 files).
  explicit GgufWriter(uint32_t version = 3);

  // Fails on a duplicate or empty key, or a general.alignment that llama.cpp would refuse
  // (it must be a UINT32 power of two, here also at most 2^30 as our reader requires).
  Status AddKeyValue(std::string key, GgufValue value);

  // `ne` in ggml order (ne[0] contiguous), at most 4 dims; names under 64 bytes (ggml's
  // GGML_MAX_NAME, which llama.cpp enforces when loading). `data` must be exactly the tensor's
  // size and outlive Write*().
  Status AddTensor(std::string name, DType dtype, std::span<const int64_t> ne,
                   std::span<const std::byte> data);
  Status AddTensorOwned(std::string name, DType dtype, std::span<const int64_t> ne,
                        std::vector<std::byte> data);

  // A tensor whose bytes the caller writes itself after SerializeHeader() (streaming). A
  // writer holding such tensors cannot WriteFile/WriteToBuffer.
  Status AddTensorInfo(std::string name, DType dtype, std::span<const int64_t> ne);

  // Copies every key and tensor of `file` (tensor bytes borrowed from it). The writer must be
  // empty; it takes the file's version, so rewriting is byte-identical for v2 files too.
  Status AddAllFrom(const GgufFile& file);

  // Writes to `path` through a temporary file renamed into place, so a crash never leaves a
  // half-written model under the final name.
  Status WriteFile(const std::string& path) const;
  StatusOr<std::vector<std::byte>> WriteToBuffer() const;

  // Everything before the data section (header, metadata, tensor infos, padding) and the
  // size of the data section, for writers that stream tensor data themselves: a converter
  // that cannot hold a 700 GB model in memory, or a benchmark making a sparse file.
  std::vector<std::byte> SerializeHeader() const;
  uint64_t DataSectionSize() const;

  uint64_t alignment() const { return alignment_; }
  size_t num_tensors() const { return tensors_.size(); }

 private:
  struct PendingTensor {
    std::string name;
    DType dtype;
    int n_dims;
    int64_t ne[kGgufMaxDims];
    uint64_t n_bytes;
    std::span<const std::byte> data;  // empty when streamed by the caller
    bool streamed;
  };
  template <typename Sink>
  void Serialize(Sink& sink, bool header_only) const;
  // The tensor's byte size, or an error for a bad name, dtype or shape.
  StatusOr<uint64_t> CheckTensor(const std::string& name, DType dtype,
                                 std::span<const int64_t> ne) const;
  Status Append(std::string name, DType dtype, std::span<const int64_t> ne,
                std::span<const std::byte> data, bool streamed);
  Status CheckAllDataPresent() const;

  uint32_t version_;
  uint64_t alignment_ = kGgufDefaultAlignment;
  std::vector<GgufKeyValue> metadata_;
  std::unordered_set<std::string> keys_;
  std::vector<PendingTensor> tensors_;
  std::unordered_set<std::string> tensor_names_;
  std::vector<std::vector<std::byte>> owned_;
};

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_GGUF_WRITER_H_
