// GgufFile: a GGUF v2/v3 model file, parsed and mapped without copying tensor data.
//
// Layout (shared/reference/deepseek-models.md §6.1):
//
//   "GGUF" | u32 version | u64 tensor_count | u64 kv_count
//   kv_count x { string key, u32 type, value }
//   tensor_count x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
//   zero padding to `alignment` (general.alignment, default 32)
//   data section: tensor i at data_offset + offset_i, each offset a multiple of alignment
//
// Opening reads only the header and tensor table, so it costs milliseconds whatever the
// file size; tensor views point into the mapping. Every count, length and offset is checked
// against the file before it is used, so a hostile file is an error, never a crash or a huge
// allocation. Messages name the file, the item (key or tensor) and the byte position.
//
// Thread safety: immutable after Open(). Move-only (its indexes point into itself); tensor
// views stay valid while the GgufFile lives.
#ifndef DSINFER_FORMATS_GGUF_FILE_H_
#define DSINFER_FORMATS_GGUF_FILE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "formats/gguf_value.h"
#include "tensor/dtype.h"
#include "tensor/tensor_view.h"

namespace dsinfer {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr uint64_t kGgufDefaultAlignment = 32;
inline constexpr int kGgufMaxDims = 4;           // GGML_MAX_DIMS
inline constexpr size_t kGgufMaxNameBytes = 64;  // GGML_MAX_NAME, with ggml's NUL
inline constexpr std::string_view kGgufAlignmentKey = "general.alignment";

struct GgufTensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  int n_dims = 0;
  std::array<int64_t, kGgufMaxDims> ne{1, 1, 1, 1};  // ggml order: ne[0] is contiguous
  uint64_t offset = 0;                               // from the start of the data section
  uint64_t n_bytes = 0;
  TensorView view;  // shape outermost-first: ne reversed

  std::span<const int64_t> dims() const { return {ne.data(), static_cast<size_t>(n_dims)}; }
  int64_t num_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
 public:
  // Maps `path` and parses it.
  static StatusOr<GgufFile> Open(const std::string& path);
  // Parses bytes already in memory; `keep_alive` owns them (may be null if the caller does).
  // `name` prefixes error messages.
  static StatusOr<GgufFile> Parse(std::span<const std::byte> bytes, std::string name,
                                  std::shared_ptr<const void> keep_alive);

  GgufFile(GgufFile&&) = default;
  GgufFile& operator=(GgufFile&&) = default;
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return bytes_.size(); }
  std::span<const std::byte> bytes() const { return bytes_; }

  const std::vector<GgufKeyValue>& metadata() const { return metadata_; }
  const GgufValue* FindValue(std::string_view key) const;
  std::optional<std::string_view> GetString(std::string_view key) const;
  std::optional<uint64_t> GetUint(std::string_view key) const;
  std::optional<int64_t> GetInt(std::string_view key) const;
  std::optional<double> GetFloat(std::string_view key) const;
  std::optional<bool> GetBool(std::string_view key) const;
  const GgufArray* GetArray(std::string_view key) const;

  // general.architecture, or "" when absent.
  std::string_view architecture() const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }  // file order
  const GgufTensorInfo* FindTensor(std::string_view name) const;
  uint64_t total_tensor_bytes() const;
  uint64_t total_parameters() const;

 private:
  friend class GgufParser;
  GgufFile() = default;
  void BuildIndexes();

  std::string name_;
  std::shared_ptr<const void> keep_alive_;
  std::span<const std::byte> bytes_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<GgufKeyValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  // Views into the vectors above; their heap buffers do not move when the file is moved.
  std::unordered_map<std::string_view, size_t> key_index_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_GGUF_FILE_H_
