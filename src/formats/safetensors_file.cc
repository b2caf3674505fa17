#include "formats/safetensors_file.h"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/utf8.h"
#include "formats/json_fields.h"
#include "platform/mapped_file.h"

namespace dsinfer {
namespace {

using Json = nlohmann::json;

// Containers open at depth 0 (the header), 1 (a tensor entry or __metadata__) and 2 (shape,
// data_offsets) only. The pre-pass refuses anything deeper before a DOM is built, which bounds
// the memory a hostile header ("[[[[...") costs, and refuses duplicate keys, which nlohmann
// would resolve silently by keeping the last.
constexpr JsonLimits kHeaderLimits{.max_depth = 3, .unique_keys = true};

Status Corrupt(const std::string& file, std::string_view what) {
  return DataLossError(fmt::format("{}: {}", file, what));
}

Status TensorError(const std::string& file, std::string_view tensor, std::string_view what) {
  return DataLossError(fmt::format("{}: tensor '{}': {}", file, EscapeForMessage(tensor), what));
}

uint64_t ReadU64Le(std::span<const std::byte> bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

// The header's DOM, after the pre-pass has bounded its nesting and refused duplicate keys.
StatusOr<Json> ParseHeaderJson(std::string_view text, const std::string& file) {
  if (const std::string violation = JsonLimitsViolation(text, kHeaderLimits); !violation.empty()) {
    return Corrupt(file, "header " + violation);
  }
  Json root = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Corrupt(file, "header is " + JsonSyntaxError(text));
  if (!root.is_object()) return Corrupt(file, "header is not a JSON object");
  return root;
}

StatusOr<std::vector<std::pair<std::string, std::string>>> ParseMetadata(const Json& value,
                                                                         const std::string& file) {
  std::vector<std::pair<std::string, std::string>> metadata;
  if (value.is_null()) return metadata;
  if (!value.is_object()) return Corrupt(file, "__metadata__ is not a JSON object");
  for (const auto& [key, item] : value.items()) {
    const auto* text = item.get_ptr<const std::string*>();
    if (text == nullptr) {
      return Corrupt(file, fmt::format("__metadata__ value of '{}' is a JSON {}, not a string",
                                       EscapeForMessage(key), item.type_name()));
    }
    metadata.emplace_back(key, *text);
  }
  return metadata;
}

StatusOr<Shape> ParseShape(const Json& entry, const std::string& file, const std::string& name) {
  const auto it = entry.find("shape");
  if (it == entry.end()) return TensorError(file, name, "missing \"shape\"");
  if (!it->is_array()) {
    return TensorError(file, name,
                       fmt::format("\"shape\" is a JSON {}, not an array", it->type_name()));
  }
  if (it->size() > static_cast<size_t>(Shape::kMaxRank)) {
    return TensorError(
        file, name, fmt::format("rank {} exceeds the maximum of {}", it->size(), Shape::kMaxRank));
  }
  std::array<int64_t, Shape::kMaxRank> dims{};
  for (size_t i = 0; i < it->size(); ++i) {
    const std::optional<uint64_t> dim = JsonUint64((*it)[i]);
    if (!dim || *dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return TensorError(file, name,
                         fmt::format("shape dimension {} is {}, not a non-negative integer", i,
                                     DescribeJson((*it)[i])));
    }
    dims[i] = static_cast<int64_t>(*dim);
  }
  auto shape = Shape::FromDims({dims.data(), it->size()});
  if (!shape.ok()) return TensorError(file, name, shape.status().message());
  if (!shape->NumElements()) {
    return TensorError(
        file, name,
        fmt::format("shape {} has more elements than fit in 64 bits", shape->ToString()));
  }
  return shape;
}

// `data_offset` is where the data section starts in the file, `data_size` its length.
StatusOr<SafetensorsTensor> ParseTensor(const std::string& name, const Json& entry,
                                        uint64_t data_offset, uint64_t data_size,
                                        const std::string& file) {
  if (!entry.is_object()) {
    return TensorError(file, name,
                       fmt::format("entry is a JSON {}, not an object", entry.type_name()));
  }
  SafetensorsTensor tensor;
  tensor.name = name;

  const auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end()) return TensorError(file, name, "missing \"dtype\"");
  const auto* dtype_name = dtype_it->get_ptr<const std::string*>();
  if (dtype_name == nullptr) {
    return TensorError(file, name,
                       fmt::format("\"dtype\" is a JSON {}, not a string", dtype_it->type_name()));
  }
  const std::optional<DType> dtype = DTypeFromSafetensorsName(*dtype_name);
  if (!dtype) {
    return TensorError(file, name,
                       fmt::format("unknown dtype '{}' (supported: F64 F32 F16 BF16 F8_E4M3 "
                                   "F8_E5M2 I64 I32 I16 I8 U8 BOOL)",
                                   EscapeForMessage(*dtype_name)));
  }
  tensor.dtype = *dtype;

  DSI_ASSIGN_OR_RETURN(tensor.shape, ParseShape(entry, file, name));
  auto num_bytes = tensor.shape.NumBytes(tensor.dtype);
  if (!num_bytes.ok()) return TensorError(file, name, num_bytes.status().message());

  const auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end()) return TensorError(file, name, "missing \"data_offsets\"");
  const std::optional<uint64_t> begin = offsets_it->is_array() && offsets_it->size() == 2
                                            ? JsonUint64((*offsets_it)[0])
                                            : std::nullopt;
  const std::optional<uint64_t> end = offsets_it->is_array() && offsets_it->size() == 2
                                          ? JsonUint64((*offsets_it)[1])
                                          : std::nullopt;
  if (!begin || !end) {
    return TensorError(file, name,
                       fmt::format("\"data_offsets\" is {}, not two non-negative integers",
                                   DescribeJson(*offsets_it)));
  }
  if (*begin > *end) {
    return TensorError(file, name,
                       fmt::format("data_offsets [{}, {}] end before they begin", *begin, *end));
  }
  if (*end - *begin != static_cast<uint64_t>(*num_bytes)) {
    return TensorError(
        file, name,
        fmt::format("data_offsets [{}, {}] hold {} bytes but shape {} of {} needs {}", *begin, *end,
                    *end - *begin, tensor.shape.ToString(), *dtype_name, *num_bytes));
  }
  if (*end > data_size) {
    return TensorError(file, name,
                       fmt::format("data_offsets [{}, {}] extend past the end of the file (the "
                                   "data section has {} bytes)",
                                   *begin, *end, data_size));
  }
  // Kernels reinterpret the bytes in place, so each element must sit at a multiple of its size
  // (writers pad the header to 8 and store tensors in descending element size for this).
  const auto alignment = static_cast<uint64_t>(GetDTypeInfo(tensor.dtype).type_size);
  if ((data_offset + *begin) % alignment != 0) {
    return TensorError(file, name,
                       fmt::format("data starts at file offset {} (data_offsets begin {}), which "
                                   "is not a multiple of {}, the alignment {} needs",
                                   data_offset + *begin, *begin, alignment, *dtype_name));
  }
  tensor.data_begin = *begin;
  tensor.data_end = *end;
  return tensor;
}

// Data ranges must not share bytes; empty ranges share none.
Status CheckNoOverlap(const std::vector<SafetensorsTensor>& tensors, const std::string& file) {
  std::vector<const SafetensorsTensor*> by_offset;
  by_offset.reserve(tensors.size());
  for (const auto& t : tensors) {
    if (t.data_end > t.data_begin) by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) {
    return a->data_begin != b->data_begin ? a->data_begin < b->data_begin : a->name < b->name;
  });
  // Sorted by start, non-empty ranges are disjoint exactly when each starts at or after the
  // previous one's end.
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const auto& prev = *by_offset[i - 1];
    const auto& next = *by_offset[i];
    if (next.data_begin < prev.data_end) {
      return Corrupt(file,
                     fmt::format("tensors '{}' [{}, {}) and '{}' [{}, {}) overlap",
                                 EscapeForMessage(prev.name), prev.data_begin, prev.data_end,
                                 EscapeForMessage(next.name), next.data_begin, next.data_end));
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  DSI_ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> mapped, MappedFile::Open(path));
  const std::span<const std::byte> bytes = mapped->bytes();
  return Parse(bytes, path, std::move(mapped));
}

StatusOr<SafetensorsFile> SafetensorsFile::Parse(std::span<const std::byte> bytes, std::string name,
                                                 std::shared_ptr<const void> keep_alive) {
  if (bytes.size() < 8) {
    return Corrupt(
        name, fmt::format("file is {} bytes, shorter than the 8-byte header length", bytes.size()));
  }
  const uint64_t header_len = ReadU64Le(bytes.first(8));
  if (header_len > kMaxHeaderBytes) {
    return Corrupt(name, fmt::format("header length {} exceeds the {} MiB limit", header_len,
                                     kMaxHeaderBytes >> 20));
  }
  if (header_len > bytes.size() - 8) {
    return Corrupt(name, fmt::format("header length {} exceeds the {} bytes after the length "
                                     "field (file truncated?)",
                                     header_len, bytes.size() - 8));
  }
  const std::string_view header(reinterpret_cast<const char*>(bytes.data()) + 8,
                                static_cast<size_t>(header_len));
  if (!IsValidUtf8(header)) {
    return Corrupt(name, fmt::format("header is not valid UTF-8 (first bad byte at header offset "
                                     "{})",
                                     FirstInvalidUtf8Offset(header)));
  }
  DSI_ASSIGN_OR_RETURN(const Json root, ParseHeaderJson(header, name));

  SafetensorsFile file;
  file.data_offset_ = 8 + static_cast<size_t>(header_len);
  const uint64_t data_size = bytes.size() - file.data_offset_;
  // nlohmann's object is a std::map, so items come sorted by name: the order tensors() promises.
  for (const auto& [key, value] : root.items()) {
    if (key == "__metadata__") {
      DSI_ASSIGN_OR_RETURN(file.metadata_, ParseMetadata(value, name));
      continue;
    }
    DSI_ASSIGN_OR_RETURN(SafetensorsTensor tensor,
                         ParseTensor(key, value, file.data_offset_, data_size, name));
    file.tensors_.push_back(std::move(tensor));
  }
  DSI_RETURN_IF_ERROR(CheckNoOverlap(file.tensors_, name));

  for (auto& t : file.tensors_) {
    const std::span<const std::byte> data =
        bytes.subspan(file.data_offset_ + t.data_begin, t.data_end - t.data_begin);
    t.view = TensorView{.dtype = t.dtype, .shape = t.shape, .bytes = data};
  }
  file.name_ = std::move(name);
  file.keep_alive_ = std::move(keep_alive);
  file.bytes_ = bytes;
  return file;
}

const SafetensorsTensor* SafetensorsFile::Find(std::string_view name) const {
  const auto it = std::lower_bound(
      tensors_.begin(), tensors_.end(), name,
      [](const SafetensorsTensor& t, std::string_view n) { return std::string_view(t.name) < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

}  // namespace dsinfer
