#include "formats/safetensors_writer.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/utf8.h"
#include "formats/safetensors_file.h"

namespace dsinfer {

namespace {

// The position of a dtype in the reference's `enum Dtype` (safetensors/src/tensor.rs), whose
// derived order its writer sorts by, descending. Only the relative order matters.
int ReferenceDtypeRank(DType dtype) {
  switch (dtype) {
    case DType::kBool: return 0;
    case DType::kU8: return 1;
    case DType::kI8: return 2;
    case DType::kF8E5M2: return 3;
    case DType::kF8E4M3: return 4;
    case DType::kI16: return 5;
    case DType::kF16: return 7;
    case DType::kBF16: return 8;
    case DType::kI32: return 9;
    case DType::kF32: return 11;
    case DType::kF64: return 12;
    case DType::kI64: return 13;
    default: return -1;  // not a safetensors dtype; refused by AddTensor
  }
}

}  // namespace

Status SafetensorsWriter::AddTensor(std::string name, DType dtype, Shape shape) {
  if (file_) return FailedPreconditionError("safetensors writer: AddTensor after Open");
  if (name.empty() || name == "__metadata__") {
    return InvalidArgumentError(
        fmt::format("safetensors writer: tensor name '{}' is reserved or empty", name));
  }
  if (!IsValidUtf8(name)) {
    return InvalidArgumentError(
        fmt::format("safetensors writer: tensor name '{}' is not UTF-8", EscapeForMessage(name)));
  }
  if (index_.contains(name)) {
    return InvalidArgumentError(fmt::format("safetensors writer: tensor '{}' added twice", name));
  }
  if (GetDTypeInfo(dtype).safetensors_name.empty() || ReferenceDtypeRank(dtype) < 0) {
    return InvalidArgumentError(
        fmt::format("safetensors writer: tensor '{}': {} has no "
                    "safetensors dtype",
                    name, DTypeName(dtype)));
  }
  const StatusOr<int64_t> n_bytes = shape.NumBytes(dtype);
  if (!n_bytes.ok()) {
    return InvalidArgumentError(
        fmt::format("safetensors writer: tensor '{}': {}", name, n_bytes.status().message()));
  }
  index_.emplace(name, tensors_.size());
  tensors_.push_back(Pending{.name = std::move(name),
                             .dtype = dtype,
                             .shape = shape,
                             .n_bytes = static_cast<uint64_t>(*n_bytes)});
  return Status::Ok();
}

Status SafetensorsWriter::AddMetadata(std::string key, std::string value) {
  if (file_) return FailedPreconditionError("safetensors writer: AddMetadata after Open");
  if (!IsValidUtf8(key) || !IsValidUtf8(value)) {
    return InvalidArgumentError(
        fmt::format("safetensors writer: metadata '{}' is not UTF-8", EscapeForMessage(key)));
  }
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return Status::Ok();
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
  return Status::Ok();
}

Status SafetensorsWriter::Open(const std::string& path) {
  if (file_) return FailedPreconditionError("safetensors writer: opened twice");
  order_.resize(tensors_.size());
  for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
  std::sort(order_.begin(), order_.end(), [&](size_t a, size_t b) {
    const int ra = ReferenceDtypeRank(tensors_[a].dtype);
    const int rb = ReferenceDtypeRank(tensors_[b].dtype);
    return ra != rb ? ra > rb : tensors_[a].name < tensors_[b].name;
  });

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (std::none_of(metadata_.begin(), metadata_.end(),
                   [](const auto& kv) { return kv.first == "format"; })) {
    metadata_.insert(metadata_.begin(), {"format", "pt"});
  }
  nlohmann::ordered_json& meta = header["__metadata__"];
  meta = nlohmann::ordered_json::object();
  for (const auto& [key, value] : metadata_) meta[key] = value;
  uint64_t offset = 0;
  for (size_t i : order_) {
    const Pending& t = tensors_[i];
    const std::span<const int64_t> dims = t.shape.dims();
    header[t.name] = {{"dtype", GetDTypeInfo(t.dtype).safetensors_name},
                      {"shape", std::vector<int64_t>(dims.begin(), dims.end())},
                      {"data_offsets", {offset, offset + t.n_bytes}}};
    offset += t.n_bytes;
  }
  data_size_ = offset;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  if (text.size() > SafetensorsFile::kMaxHeaderBytes) {
    return InvalidArgumentError(fmt::format("{}: header of {} bytes exceeds the {} readers accept",
                                            path, text.size(), SafetensorsFile::kMaxHeaderBytes));
  }
  data_start_ = 8 + text.size();

  file_.emplace(path);
  DSI_RETURN_IF_ERROR(file_->Open());
  std::byte length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<std::byte>((text.size() >> (8 * i)) & 0xFF);
  DSI_RETURN_IF_ERROR(file_->Write(length, sizeof(length)));
  DSI_RETURN_IF_ERROR(file_->Write(text.data(), text.size()));
  next_ = 0;
  return Status::Ok();
}

Status SafetensorsWriter::Write(std::string_view name, std::span<const std::byte> data) {
  if (!file_) return FailedPreconditionError("safetensors writer: Write before Open");
  // Skip past complete tensors (empty ones are complete from the start).
  while (next_ < order_.size() &&
         tensors_[order_[next_]].written == tensors_[order_[next_]].n_bytes) {
    ++next_;
  }
  const auto it = index_.find(std::string(name));
  if (it == index_.end()) {
    return InvalidArgumentError(fmt::format("safetensors writer: no tensor '{}'", name));
  }
  Pending& t = tensors_[it->second];
  if (data.empty()) return Status::Ok();
  if (next_ == order_.size() || order_[next_] != it->second) {
    return FailedPreconditionError(fmt::format(
        "safetensors writer: tensor '{}' written out of order ({} comes first in the file)", name,
        next_ == order_.size() ? "nothing" : "'" + tensors_[order_[next_]].name + "'"));
  }
  if (data.size() > t.n_bytes - t.written) {
    return InvalidArgumentError(
        fmt::format("safetensors writer: tensor '{}': {} bytes more than its {}", name,
                    t.written + data.size() - t.n_bytes, t.n_bytes));
  }
  DSI_RETURN_IF_ERROR(file_->Write(data.data(), data.size()));
  t.written += data.size();
  return Status::Ok();
}

Status SafetensorsWriter::Commit() {
  if (!file_) return FailedPreconditionError("safetensors writer: Commit before Open");
  for (const Pending& t : tensors_) {
    if (t.written != t.n_bytes) {
      return FailedPreconditionError(fmt::format("{}: tensor '{}': {} of {} bytes written",
                                                 file_->tmp_path(), t.name, t.written, t.n_bytes));
    }
  }
  if (file_->written() != file_size()) {
    return InternalError(fmt::format("{}: wrote {} bytes, the header promises {}",
                                     file_->tmp_path(), file_->written(), file_size()));
  }
  return file_->Commit();
}

std::vector<std::string> SafetensorsWriter::tensor_order() const {
  std::vector<std::string> names;
  names.reserve(order_.size());
  for (size_t i : order_) names.push_back(tensors_[i].name);
  return names;
}

std::optional<uint64_t> SafetensorsWriter::TensorBytes(std::string_view name) const {
  const auto it = index_.find(std::string(name));
  if (it == index_.end()) return std::nullopt;
  return tensors_[it->second].n_bytes;
}

}  // namespace dsinfer
