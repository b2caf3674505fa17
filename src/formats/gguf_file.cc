#include "formats/gguf_file.h"

#include <algorithm>
#include <limits>
#include <new>
#include <utility>

#include <fmt/format.h>

#include "base/utf8.h"
#include "formats/byte_reader.h"
#include "platform/mapped_file.h"

namespace dsinfer {

// Parses one file front to back. Each Read* method returns an error naming what it was
// reading and where; limits are checked before any allocation sized by the file.
class GgufParser {
 public:
  GgufParser(std::span<const std::byte> bytes, GgufFile* out) : reader_(bytes), out_(out) {}

  Status Parse() {
    DSI_RETURN_IF_ERROR(ReadHeader());
    DSI_RETURN_IF_ERROR(ReadMetadata());
    DSI_RETURN_IF_ERROR(ResolveAlignment());
    DSI_RETURN_IF_ERROR(ReadTensorInfos());
    DSI_RETURN_IF_ERROR(PlaceTensors());
    return Status::Ok();
  }

 private:
  // Nested arrays are legal GGUF; real files use none, so a shallow limit stops stack abuse.
  static constexpr int kMaxArrayDepth = 8;
  // Smallest encoding of one key/value (empty key + type + 1-byte value) and one tensor info
  // (empty name + n_dims + type + offset): bounds for counts before reserving memory.
  static constexpr uint64_t kMinKvBytes = 8 + 4 + 1;
  static constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;
  // Bounds on what a file may make us allocate, whatever its size (a sparse file of any size
  // costs an attacker nothing). Real files are far below: DeepSeek-V3 has ~1,100 tensors,
  // ~50 keys and ~390k array elements (vocabulary, merges, token types).
  static constexpr uint64_t kMaxTensors = 1 << 20;
  static constexpr uint64_t kMaxKeys = 1 << 16;
  static constexpr uint64_t kMaxArrayElements = 1 << 23;  // all arrays together, ~330 MB worst case

  Status Error(std::string what) const {
    return DataLossError(fmt::format("{} (at byte {})", what, reader_.position()));
  }
  Status Truncated(std::string_view what) const {
    return DataLossError(fmt::format("file truncated while reading {} (at byte {} of {})", what,
                                     reader_.position(), reader_.size()));
  }

  template <typename T>
  Status ReadScalar(T* out, std::string_view what) {
    return reader_.Read(out) ? Status::Ok() : Truncated(what);
  }

  Status ReadString(std::string_view* out, std::string_view what) {
    uint64_t length = 0;
    DSI_RETURN_IF_ERROR(ReadScalar(&length, what));
    if (length > reader_.remaining()) {
      return Error(fmt::format("{} claims {} bytes but only {} remain in the file", what, length,
                               reader_.remaining()));
    }
    reader_.ReadString(length, out);
    return Status::Ok();
  }

  Status ReadHeader() {
    uint32_t magic = 0;
    if (!reader_.Read(&magic)) {
      return DataLossError(
          fmt::format("not a GGUF file: {} bytes is too short for the header", reader_.size()));
    }
    if (magic != kGgufMagic) {
      const auto* m = reinterpret_cast<const unsigned char*>(&magic);
      return DataLossError(fmt::format(
          "not a GGUF file: magic is {:02x} {:02x} {:02x} {:02x}, expected 47 47 55 46 (\"GGUF\")",
          m[0], m[1], m[2], m[3]));
    }
    DSI_RETURN_IF_ERROR(ReadScalar(&out_->version_, "version"));
    if (out_->version_ == 1) {
      return UnimplementedError(
          "GGUF version 1 (2023 files with 32-bit counts) is not supported; re-convert the model");
    }
    if (out_->version_ != 2 && out_->version_ != 3) {
      // A byte-swapped version is the sign of a big-endian file.
      const bool big_endian = out_->version_ == 0x02000000 || out_->version_ == 0x03000000;
      return DataLossError(fmt::format("unsupported GGUF version {}{}", out_->version_,
                                       big_endian ? " (a big-endian file; only little-endian "
                                                    "files are supported)"
                                                  : ""));
    }
    DSI_RETURN_IF_ERROR(ReadScalar(&tensor_count_, "tensor count"));
    DSI_RETURN_IF_ERROR(ReadScalar(&kv_count_, "metadata count"));
    if (kv_count_ > reader_.remaining() / kMinKvBytes) {
      return Error(fmt::format("metadata count {} is impossible for a file of {} bytes", kv_count_,
                               reader_.size()));
    }
    if (tensor_count_ > reader_.remaining() / kMinTensorInfoBytes) {
      return Error(fmt::format("tensor count {} is impossible for a file of {} bytes",
                               tensor_count_, reader_.size()));
    }
    if (tensor_count_ > kMaxTensors || kv_count_ > kMaxKeys) {
      return ResourceExhaustedError(
          fmt::format("{} tensors and {} metadata keys exceed the limits of {} and {}",
                      tensor_count_, kv_count_, kMaxTensors, kMaxKeys));
    }
    return Status::Ok();
  }

  Status ReadValue(GgufType type, int depth, std::string_view key, GgufValue* out) {
    switch (type) {
      case GgufType::kUint8: return ReadTyped<uint8_t>(key, out);
      case GgufType::kInt8: return ReadTyped<int8_t>(key, out);
      case GgufType::kUint16: return ReadTyped<uint16_t>(key, out);
      case GgufType::kInt16: return ReadTyped<int16_t>(key, out);
      case GgufType::kUint32: return ReadTyped<uint32_t>(key, out);
      case GgufType::kInt32: return ReadTyped<int32_t>(key, out);
      case GgufType::kFloat32: return ReadTyped<float>(key, out);
      case GgufType::kUint64: return ReadTyped<uint64_t>(key, out);
      case GgufType::kInt64: return ReadTyped<int64_t>(key, out);
      case GgufType::kFloat64: return ReadTyped<double>(key, out);
      case GgufType::kBool: {
        uint8_t b = 0;
        DSI_RETURN_IF_ERROR(ReadScalar(&b, KeyWhat(key)));
        if (b > 1) return Error(fmt::format("key '{}': bool value {} is not 0 or 1", key, b));
        *out = GgufValue::Bool(b == 1);
        return Status::Ok();
      }
      case GgufType::kString: {
        std::string_view s;
        DSI_RETURN_IF_ERROR(ReadString(&s, KeyWhat(key)));
        *out = GgufValue::String(std::string(s));
        return Status::Ok();
      }
      case GgufType::kArray: return ReadArray(depth, key, out);
    }
    return Error(fmt::format("key '{}': unknown value type {}", key, static_cast<uint32_t>(type)));
  }

  template <typename T>
  Status ReadTyped(std::string_view key, GgufValue* out) {
    T v{};
    DSI_RETURN_IF_ERROR(ReadScalar(&v, KeyWhat(key)));
    *out = GgufValue(GgufValue::Storage(v));
    return Status::Ok();
  }

  Status ReadArray(int depth, std::string_view key, GgufValue* out) {
    if (depth >= kMaxArrayDepth) {
      return Error(fmt::format("key '{}': arrays nested deeper than {}", key, kMaxArrayDepth));
    }
    uint32_t raw_type = 0;
    uint64_t count = 0;
    DSI_RETURN_IF_ERROR(ReadScalar(&raw_type, KeyWhat(key)));
    if (raw_type >= kGgufTypeCount) {
      return Error(fmt::format("key '{}': unknown array element type {}", key, raw_type));
    }
    DSI_RETURN_IF_ERROR(ReadScalar(&count, KeyWhat(key)));
    const auto element_type = static_cast<GgufType>(raw_type);
    // Strings take at least their 8-byte length, arrays 12 bytes: bound the count by what
    // the rest of the file could hold before reserving anything.
    const size_t fixed = GgufTypeFixedSize(element_type);
    const uint64_t min_element = fixed != 0 ? fixed : element_type == GgufType::kString ? 8 : 12;
    if (count > reader_.remaining() / min_element) {
      return Error(
          fmt::format("key '{}': array of {} {} elements does not fit in the {} bytes left", key,
                      count, GgufTypeName(element_type), reader_.remaining()));
    }
    array_elements_ += count;
    if (array_elements_ > kMaxArrayElements) {
      return ResourceExhaustedError(fmt::format(
          "key '{}': metadata arrays hold more than {} elements in all; no model needs that", key,
          kMaxArrayElements));
    }
    GgufArray array{.element_type = element_type, .items = {}};
    array.items.resize(static_cast<size_t>(count));
    for (auto& item : array.items) {
      DSI_RETURN_IF_ERROR(ReadValue(element_type, depth + 1, key, &item));
    }
    *out = GgufValue::Array(std::move(array));
    return Status::Ok();
  }

  static std::string KeyWhat(std::string_view key) { return fmt::format("the value of '{}'", key); }

  Status ReadMetadata() {
    out_->metadata_.reserve(static_cast<size_t>(kv_count_));  // <= kMaxKeys
    std::unordered_map<std::string_view, size_t> seen;
    for (uint64_t i = 0; i < kv_count_; ++i) {
      std::string_view key;
      DSI_RETURN_IF_ERROR(ReadString(&key, fmt::format("metadata key #{}", i)));
      if (key.empty()) return Error(fmt::format("metadata key #{} is empty", i));
      if (!IsValidUtf8(key)) {
        return Error(
            fmt::format("metadata key #{} is not valid UTF-8: '{}'", i, EscapeForMessage(key)));
      }
      if (seen.count(key) != 0) return Error(fmt::format("duplicate metadata key '{}'", key));
      seen.emplace(key, i);
      uint32_t raw_type = 0;
      DSI_RETURN_IF_ERROR(ReadScalar(&raw_type, fmt::format("the type of '{}'", key)));
      if (raw_type >= kGgufTypeCount) {
        return Error(fmt::format("key '{}': unknown value type {}", key, raw_type));
      }
      GgufValue value;
      DSI_RETURN_IF_ERROR(ReadValue(static_cast<GgufType>(raw_type), 0, key, &value));
      out_->metadata_.push_back({std::string(key), std::move(value)});
    }
    return Status::Ok();
  }

  Status ResolveAlignment() {
    for (const auto& kv : out_->metadata_) {
      if (kv.key != kGgufAlignmentKey) continue;
      const std::optional<uint64_t> a = kv.value.AsUint64();
      if (!a || *a == 0 || (*a & (*a - 1)) != 0 || *a > (1U << 30)) {
        return DataLossError(fmt::format("{} = {} is not a power of two up to 2^30",
                                         kGgufAlignmentKey, kv.value.ToDisplayString()));
      }
      out_->alignment_ = *a;
    }
    return Status::Ok();
  }

  Status ReadTensorInfos() {
    out_->tensors_.reserve(static_cast<size_t>(tensor_count_));  // <= kMaxTensors
    std::unordered_map<std::string_view, size_t> seen;
    for (uint64_t i = 0; i < tensor_count_; ++i) {
      GgufTensorInfo info;
      std::string_view name;
      DSI_RETURN_IF_ERROR(ReadString(&name, fmt::format("the name of tensor #{}", i)));
      if (!IsValidUtf8(name)) {
        return Error(
            fmt::format("tensor #{} name is not valid UTF-8: '{}'", i, EscapeForMessage(name)));
      }
      if (name.empty()) return Error(fmt::format("tensor #{} has an empty name", i));
      if (seen.count(name) != 0) return Error(fmt::format("duplicate tensor name '{}'", name));
      seen.emplace(name, i);
      info.name = std::string(name);
      const std::string what = fmt::format("tensor '{}'", name);

      uint32_t n_dims = 0;
      DSI_RETURN_IF_ERROR(ReadScalar(&n_dims, what));
      if (n_dims > static_cast<uint32_t>(kGgufMaxDims)) {
        return Error(fmt::format("{} has {} dimensions; GGUF allows at most {}", what, n_dims,
                                 kGgufMaxDims));
      }
      info.n_dims = static_cast<int>(n_dims);
      for (uint32_t d = 0; d < n_dims; ++d) {
        DSI_RETURN_IF_ERROR(ReadScalar(&info.ne[d], what));
        if (info.ne[d] < 0) {
          return Error(fmt::format("{} has negative dimension ne[{}] = {}", what, d, info.ne[d]));
        }
      }
      uint32_t raw_type = 0;
      DSI_RETURN_IF_ERROR(ReadScalar(&raw_type, what));
      const std::optional<DType> dtype = DTypeFromGgmlId(raw_type);
      if (!dtype) return Error(fmt::format("{} has unknown ggml type {}", what, raw_type));
      info.dtype = *dtype;
      DSI_RETURN_IF_ERROR(ReadScalar(&info.offset, what));

      StatusOr<Shape> shape = Shape::FromGgmlNe(info.dims());
      if (!shape.ok()) return Error(fmt::format("{}: {}", what, shape.status().message()));
      if (!shape->NumElements()) {
        return Error(fmt::format("{} shape {} overflows 64 bits", what, shape->ToString()));
      }
      StatusOr<int64_t> n_bytes = shape->NumBytes(info.dtype);
      if (!n_bytes.ok()) return Error(fmt::format("{}: {}", what, n_bytes.status().message()));
      info.n_bytes = static_cast<uint64_t>(*n_bytes);
      info.view.dtype = info.dtype;
      info.view.shape = *shape;
      out_->tensors_.push_back(std::move(info));
    }
    return Status::Ok();
  }

  Status PlaceTensors() {
    const uint64_t a = out_->alignment_;
    const uint64_t end_of_infos = reader_.position();
    const uint64_t data_offset = (end_of_infos + a - 1) / a * a;
    out_->data_offset_ = data_offset;
    const uint64_t file_size = reader_.size();
    const uint64_t data_size = data_offset <= file_size ? file_size - data_offset : 0;
    if (out_->tensors_.empty()) return Status::Ok();
    if (data_offset > file_size) {
      return DataLossError(
          fmt::format("file truncated: data section would start at byte {} but the "
                      "file has {} bytes",
                      data_offset, file_size));
    }
    std::vector<size_t> order(out_->tensors_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (auto& t : out_->tensors_) {
      if (t.offset % a != 0) {
        return DataLossError(fmt::format(
            "tensor '{}' offset {} is not a multiple of the alignment {}", t.name, t.offset, a));
      }
      if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
        return DataLossError(fmt::format(
            "tensor '{}' ({} bytes at data offset {}) extends past the end of the file (data "
            "section holds {} bytes)",
            t.name, t.n_bytes, t.offset, data_size));
      }
      t.view.bytes = out_->bytes_.subspan(static_cast<size_t>(data_offset + t.offset),
                                          static_cast<size_t>(t.n_bytes));
    }
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
      return out_->tensors_[x].offset < out_->tensors_[y].offset;
    });
    // Compare each tensor with the one reaching furthest so far, so that an empty tensor
    // between two overlapping ones cannot hide the overlap.
    const GgufTensorInfo* furthest = nullptr;
    for (const size_t index : order) {
      const GgufTensorInfo& next = out_->tensors_[index];
      if (next.n_bytes == 0) continue;
      if (furthest != nullptr && furthest->offset + furthest->n_bytes > next.offset) {
        return DataLossError(fmt::format("tensors '{}' and '{}' overlap (bytes {}..{} and {}..{})",
                                         furthest->name, next.name, furthest->offset,
                                         furthest->offset + furthest->n_bytes, next.offset,
                                         next.offset + next.n_bytes));
      }
      if (furthest == nullptr ||
          next.offset + next.n_bytes > furthest->offset + furthest->n_bytes) {
        furthest = &next;
      }
    }
    return Status::Ok();
  }

  ByteReader reader_;
  GgufFile* out_;
  uint64_t tensor_count_ = 0;
  uint64_t kv_count_ = 0;
  uint64_t array_elements_ = 0;
};

StatusOr<GgufFile> GgufFile::Open(const std::string& path) {
  DSI_ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> mapped, MappedFile::Open(path));
  const std::span<const std::byte> bytes = mapped->bytes();
  return Parse(bytes, path, std::move(mapped));
}

StatusOr<GgufFile> GgufFile::Parse(std::span<const std::byte> bytes, std::string name,
                                   std::shared_ptr<const void> keep_alive) {
  GgufFile file;
  file.name_ = std::move(name);
  file.keep_alive_ = std::move(keep_alive);
  file.bytes_ = bytes;
  GgufParser parser(bytes, &file);
  Status status;
  try {
    status = parser.Parse();
  } catch (const std::bad_alloc&) {
    // The limits above make this unreachable for sane memory sizes; still a Status, not a crash.
    status = ResourceExhaustedError("out of memory while reading the metadata");
  }
  if (!status.ok()) return status.WithContext(file.name_);
  file.BuildIndexes();
  return file;
}

void GgufFile::BuildIndexes() {
  key_index_.reserve(metadata_.size());
  for (size_t i = 0; i < metadata_.size(); ++i) key_index_.emplace(metadata_[i].key, i);
  tensor_index_.reserve(tensors_.size());
  for (size_t i = 0; i < tensors_.size(); ++i) tensor_index_.emplace(tensors_[i].name, i);
}

const GgufValue* GgufFile::FindValue(std::string_view key) const {
  const auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].value;
}

std::optional<std::string_view> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = FindValue(key);
  const std::string* s = v ? v->AsString() : nullptr;
  if (s == nullptr) return std::nullopt;
  return std::string_view(*s);
}

std::optional<uint64_t> GgufFile::GetUint(std::string_view key) const {
  const GgufValue* v = FindValue(key);
  return v ? v->AsUint64() : std::nullopt;
}

std::optional<int64_t> GgufFile::GetInt(std::string_view key) const {
  const GgufValue* v = FindValue(key);
  return v ? v->AsInt64() : std::nullopt;
}

std::optional<double> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* v = FindValue(key);
  return v ? v->AsDouble() : std::nullopt;
}

std::optional<bool> GgufFile::GetBool(std::string_view key) const {
  const GgufValue* v = FindValue(key);
  return v ? v->AsBool() : std::nullopt;
}

const GgufArray* GgufFile::GetArray(std::string_view key) const {
  const GgufValue* v = FindValue(key);
  return v ? v->AsArray() : nullptr;
}

std::string_view GgufFile::architecture() const {
  return GetString("general.architecture").value_or("");
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

uint64_t GgufFile::total_tensor_bytes() const {
  uint64_t total = 0;
  for (const auto& t : tensors_) total += t.n_bytes;
  return total;
}

uint64_t GgufFile::total_parameters() const {
  uint64_t total = 0;
  for (const auto& t : tensors_) total += static_cast<uint64_t>(t.num_elements());
  return total;
}

}  // namespace dsinfer
