#include "model/weight_store.h"

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "formats/gguf_file.h"

namespace dsinfer {

WeightStore WeightStore::FromGguf(std::shared_ptr<const GgufFile> file) {
  WeightStore store;
  for (const GgufTensorInfo& info : file->tensors()) store.views_[info.name] = info.view;
  store.gguf_ = std::move(file);
  return store;
}

Status WeightStore::AddOwned(std::string name, DType dtype, Shape shape, AlignedBuffer data) {
  StatusOr<int64_t> expected = shape.NumBytes(dtype);
  if (!expected.ok()) {
    return InvalidArgumentError(fmt::format("tensor {}: {}", name, expected.status().message()));
  }
  if (static_cast<uint64_t>(*expected) != data.size()) {
    return InvalidArgumentError(fmt::format("tensor {}: {} bytes given, shape {} of {} needs {}",
                                            name, data.size(), shape.ToString(), DTypeName(dtype),
                                            *expected));
  }
  const TensorView view{.dtype = dtype, .shape = shape, .bytes = std::as_const(data).bytes()};
  owned_.push_back(std::move(data));
  views_[std::move(name)] = view;
  return Status::Ok();
}

const TensorView* WeightStore::Find(std::string_view name) const {
  auto it = views_.find(std::string(name));
  return it == views_.end() ? nullptr : &it->second;
}

bool WeightStore::IsMapped(std::string_view name) const {
  const TensorView* view = Find(name);
  if (view == nullptr || gguf_ == nullptr) return false;
  const std::span<const std::byte> file = gguf_->bytes();
  const auto at = reinterpret_cast<uintptr_t>(view->bytes.data());
  const auto begin = reinterpret_cast<uintptr_t>(file.data());
  return at >= begin && at - begin + view->bytes.size() <= file.size();
}

std::vector<std::string> WeightStore::Names() const {
  std::vector<std::string> names;
  names.reserve(views_.size());
  for (const auto& [name, view] : views_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

uint64_t WeightStore::owned_bytes() const {
  uint64_t total = 0;
  for (const AlignedBuffer& buffer : owned_) total += buffer.size();
  return total;
}

}  // namespace dsinfer
