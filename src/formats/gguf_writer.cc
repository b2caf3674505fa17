#include "formats/gguf_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <type_traits>

#include <fmt/format.h>

#include "tensor/shape.h"

namespace dsinfer {
namespace {

uint64_t AlignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

class BufferSink {
 public:
  void Write(const void* data, size_t n) {
    const auto* p = static_cast<const std::byte*>(data);
    out.insert(out.end(), p, p + n);
  }
  void Zeros(size_t n) { out.insert(out.end(), n, std::byte{0}); }
  std::vector<std::byte> out;
};

class FileSink {
 public:
  explicit FileSink(FILE* f) : file_(f) {}
  void Write(const void* data, size_t n) {
    if (ok_ && n != 0 && std::fwrite(data, 1, n, file_) != n) ok_ = false;
  }
  void Zeros(size_t n) {
    static constexpr std::byte kZeros[256] = {};
    while (n > 0) {
      const size_t chunk = std::min(n, sizeof(kZeros));
      Write(kZeros, chunk);
      n -= chunk;
    }
  }
  bool ok() const { return ok_; }

 private:
  FILE* file_;
  bool ok_ = true;
};

template <typename Sink>
void WriteString(Sink& sink, std::string_view s) {
  const uint64_t n = s.size();
  sink.Write(&n, sizeof(n));
  sink.Write(s.data(), s.size());
}

template <typename Sink>
void WriteValue(Sink& sink, const GgufValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          WriteString(sink, v);
        } else if constexpr (std::is_same_v<T, GgufArray>) {
          const auto type = static_cast<uint32_t>(v.element_type);
          const uint64_t n = v.items.size();
          sink.Write(&type, sizeof(type));
          sink.Write(&n, sizeof(n));
          for (const auto& item : v.items) WriteValue(sink, item);
        } else if constexpr (std::is_same_v<T, bool>) {
          const uint8_t b = v ? 1 : 0;
          sink.Write(&b, 1);
        } else {
          sink.Write(&v, sizeof(v));
        }
      },
      value.storage());
}

bool ArrayIsUniform(const GgufArray& array) {
  for (const auto& item : array.items) {
    if (item.type() != array.element_type) return false;
    if (const GgufArray* inner = item.AsArray(); inner && !ArrayIsUniform(*inner)) return false;
  }
  return true;
}

}  // namespace

GgufWriter::GgufWriter(uint32_t version) : version_(version) {
  DSI_CHECK_MSG(version == 2 || version == 3, "GGUF version %u is not writable", version);
}

Status GgufWriter::AddKeyValue(std::string key, GgufValue value) {
  if (key.empty()) return InvalidArgumentError("GGUF metadata key is empty");
  if (keys_.count(key) != 0) return AlreadyExistsError(fmt::format("duplicate GGUF key '{}'", key));
  if (const GgufArray* array = value.AsArray(); array && !ArrayIsUniform(*array)) {
    return InvalidArgumentError(
        fmt::format("GGUF key '{}': array items differ from its element type", key));
  }
  if (key == kGgufAlignmentKey) {
    const std::optional<uint64_t> a = value.AsUint64();
    if (value.type() != GgufType::kUint32 || !a || *a == 0 || (*a & (*a - 1)) != 0 ||
        *a > (1U << 30)) {
      return InvalidArgumentError(fmt::format("{} must be a UINT32 power of two up to 2^30, got {}",
                                              kGgufAlignmentKey, value.ToDisplayString()));
    }
    alignment_ = *a;
  }
  keys_.insert(key);
  metadata_.push_back({std::move(key), std::move(value)});
  return Status::Ok();
}

StatusOr<uint64_t> GgufWriter::CheckTensor(const std::string& name, DType dtype,
                                           std::span<const int64_t> ne) const {
  if (name.empty()) return InvalidArgumentError("GGUF tensor name is empty");
  if (name.size() >= kGgufMaxNameBytes) {
    return InvalidArgumentError(
        fmt::format("GGUF tensor name '{}' has {} bytes; llama.cpp allows {}", name, name.size(),
                    kGgufMaxNameBytes - 1));
  }
  if (tensor_names_.count(name) != 0) {
    return AlreadyExistsError(fmt::format("duplicate GGUF tensor '{}'", name));
  }
  if (GetDTypeInfo(dtype).ggml_id < 0) {
    return InvalidArgumentError(
        fmt::format("tensor '{}': dtype {} has no GGUF type id", name, DTypeName(dtype)));
  }
  if (ne.size() > static_cast<size_t>(kGgufMaxDims)) {
    return InvalidArgumentError(
        fmt::format("tensor '{}': {} dims, GGUF allows {}", name, ne.size(), kGgufMaxDims));
  }
  StatusOr<Shape> shape = Shape::FromGgmlNe(ne);
  if (!shape.ok()) return shape.status().WithContext(fmt::format("tensor '{}'", name));
  StatusOr<int64_t> n_bytes = shape->NumBytes(dtype);
  if (!n_bytes.ok()) return n_bytes.status().WithContext(fmt::format("tensor '{}'", name));
  return static_cast<uint64_t>(*n_bytes);
}

Status GgufWriter::Append(std::string name, DType dtype, std::span<const int64_t> ne,
                          std::span<const std::byte> data, bool streamed) {
  DSI_ASSIGN_OR_RETURN(const uint64_t n_bytes, CheckTensor(name, dtype, ne));
  if (!streamed && n_bytes != data.size()) {
    return InvalidArgumentError(fmt::format("tensor '{}': {} {} needs {} bytes, got {}", name,
                                            Shape::FromGgmlNe(ne)->ToString(), DTypeName(dtype),
                                            n_bytes, data.size()));
  }
  PendingTensor t{.name = name,
                  .dtype = dtype,
                  .n_dims = static_cast<int>(ne.size()),
                  .ne = {},
                  .n_bytes = n_bytes,
                  .data = data,
                  .streamed = streamed};
  for (size_t i = 0; i < ne.size(); ++i) t.ne[i] = ne[i];
  tensor_names_.insert(std::move(name));
  tensors_.push_back(std::move(t));
  return Status::Ok();
}

Status GgufWriter::AddTensor(std::string name, DType dtype, std::span<const int64_t> ne,
                             std::span<const std::byte> data) {
  return Append(std::move(name), dtype, ne, data, /*streamed=*/false);
}

Status GgufWriter::AddTensorOwned(std::string name, DType dtype, std::span<const int64_t> ne,
                                  std::vector<std::byte> data) {
  // Checked before taking ownership so a failed call leaves the writer unchanged.
  DSI_RETURN_IF_ERROR(CheckTensor(name, dtype, ne).status());
  owned_.push_back(std::move(data));
  Status status = Append(std::move(name), dtype, ne, owned_.back(), /*streamed=*/false);
  if (!status.ok()) owned_.pop_back();
  return status;
}

Status GgufWriter::AddTensorInfo(std::string name, DType dtype, std::span<const int64_t> ne) {
  return Append(std::move(name), dtype, ne, {}, /*streamed=*/true);
}

Status GgufWriter::CheckAllDataPresent() const {
  for (const auto& t : tensors_) {
    if (t.streamed) {
      return FailedPreconditionError(fmt::format(
          "tensor '{}' was added without data; stream it after SerializeHeader()", t.name));
    }
  }
  return Status::Ok();
}

Status GgufWriter::AddAllFrom(const GgufFile& file) {
  if (!metadata_.empty() || !tensors_.empty()) {
    return FailedPreconditionError("AddAllFrom needs an empty writer");
  }
  version_ = file.version();
  for (const auto& kv : file.metadata()) DSI_RETURN_IF_ERROR(AddKeyValue(kv.key, kv.value));
  for (const auto& t : file.tensors()) {
    DSI_RETURN_IF_ERROR(AddTensor(t.name, t.dtype, t.dims(), t.view.bytes));
  }
  return Status::Ok();
}

template <typename Sink>
void GgufWriter::Serialize(Sink& sink, bool header_only) const {
  const uint32_t magic = kGgufMagic;
  const uint64_t n_tensors = tensors_.size();
  const uint64_t n_kv = metadata_.size();
  uint64_t pos = 0;
  const auto write = [&](const void* p, size_t n) {
    sink.Write(p, n);
    pos += n;
  };
  write(&magic, 4);
  write(&version_, 4);
  write(&n_tensors, 8);
  write(&n_kv, 8);
  // Metadata and infos go through a counting wrapper so the header padding is exact.
  struct Counting {
    Sink& inner;
    uint64_t& pos;
    void Write(const void* p, size_t n) {
      inner.Write(p, n);
      pos += n;
    }
  } counting{sink, pos};
  for (const auto& kv : metadata_) {
    WriteString(counting, kv.key);
    const auto type = static_cast<uint32_t>(kv.value.type());
    counting.Write(&type, 4);
    WriteValue(counting, kv.value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    WriteString(counting, t.name);
    const auto n_dims = static_cast<uint32_t>(t.n_dims);
    counting.Write(&n_dims, 4);
    counting.Write(t.ne, sizeof(int64_t) * t.n_dims);
    const auto type = static_cast<uint32_t>(GetDTypeInfo(t.dtype).ggml_id);
    counting.Write(&type, 4);
    counting.Write(&offset, 8);
    offset += AlignUp(t.n_bytes, alignment_);
  }
  sink.Zeros(static_cast<size_t>(AlignUp(pos, alignment_) - pos));
  if (header_only) return;
  for (const auto& t : tensors_) {
    sink.Write(t.data.data(), t.data.size());
    sink.Zeros(static_cast<size_t>(AlignUp(t.data.size(), alignment_) - t.data.size()));
  }
}

StatusOr<std::vector<std::byte>> GgufWriter::WriteToBuffer() const {
  DSI_RETURN_IF_ERROR(CheckAllDataPresent());
  BufferSink sink;
  Serialize(sink, /*header_only=*/false);
  return std::move(sink.out);
}

std::vector<std::byte> GgufWriter::SerializeHeader() const {
  BufferSink sink;
  Serialize(sink, /*header_only=*/true);
  return std::move(sink.out);
}

uint64_t GgufWriter::DataSectionSize() const {
  uint64_t size = 0;
  for (const auto& t : tensors_) size += AlignUp(t.n_bytes, alignment_);
  return size;
}

Status GgufWriter::WriteFile(const std::string& path) const {
  DSI_RETURN_IF_ERROR(CheckAllDataPresent());
  const std::string tmp = path + ".tmp";
  const auto fail = [&](const char* what, int err) {
    std::remove(tmp.c_str());
    return DataLossError(fmt::format("{}: {}: {}", path, what, std::strerror(err)));
  };
  FILE* file = std::fopen(tmp.c_str(), "wb");
  if (file == nullptr) {
    return FailedPreconditionError(fmt::format("{}: cannot create: {}", tmp, std::strerror(errno)));
  }
  std::setvbuf(file, nullptr, _IOFBF, 1 << 20);
  FileSink sink(file);
  Serialize(sink, /*header_only=*/false);
  if (!sink.ok()) {
    const int err = errno;
    std::fclose(file);
    return fail("write failed", err);
  }
  // Flushed, synced and closed before the rename: a crash leaves either the old file or the
  // complete new one under `path`, never a torn one.
  if (std::fflush(file) != 0 || ::fsync(::fileno(file)) != 0) {
    const int err = errno;
    std::fclose(file);
    return fail("write failed", err);
  }
  if (std::fclose(file) != 0) return fail("close failed", errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot rename into place", errno);
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // best effort: makes the rename itself durable
    ::close(dir_fd);
  }
  return Status::Ok();
}

}  // namespace dsinfer
