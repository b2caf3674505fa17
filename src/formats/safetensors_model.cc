#include "formats/safetensors_model.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/utf8.h"
#include "formats/json_fields.h"
#include "platform/read_file.h"

namespace dsinfer {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kIndexFileName = "model.safetensors.index.json";
constexpr std::string_view kSingleFileName = "model.safetensors";
constexpr std::string_view kExtension = ".safetensors";
// DeepSeek-V3's index (92k tensors) is about 9 MB; 64 MB leaves room and still refuses a shard
// that was misnamed as an index.
constexpr size_t kMaxIndexBytes = size_t{64} << 20;
// The index is {"metadata": {...}, "weight_map": {...}}. A repeated key anywhere, above all a
// tensor listed twice in weight_map, means a hand-edited or corrupt file: Python's json would
// keep the last entry silently. The depth cap leaves metadata room and bounds the memory of
// a hostile "[[[[...".
constexpr JsonLimits kIndexLimits{.max_depth = 16, .unique_keys = true};

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string path(dir);
  if (!path.empty() && path.back() != '/') path += '/';
  path += name;
  return path;
}

// Index entries name files inside the checkpoint directory; anything that could reach
// outside it (or is not a name at all) is refused.
bool IsPlainFileName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

// weight_map of an index: tensor name -> shard file name.
struct Index {
  std::map<std::string, std::string, std::less<>> weight_map;
  std::vector<std::string> shard_names;  // sorted, unique
};

StatusOr<Index> ReadIndex(const std::string& path) {
  DSI_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path, kMaxIndexBytes));
  if (!IsValidUtf8(text)) return DataLossError(fmt::format("{}: not valid UTF-8", path));
  if (const std::string violation = JsonLimitsViolation(text, kIndexLimits); !violation.empty()) {
    return DataLossError(fmt::format("{}: {}", path, violation));
  }
  const Json root = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return DataLossError(fmt::format("{}: {}", path, JsonSyntaxError(text)));
  }
  if (!root.is_object()) return DataLossError(fmt::format("{}: not a JSON object", path));
  const auto map_it = root.find("weight_map");
  if (map_it == root.end()) return DataLossError(fmt::format("{}: no \"weight_map\"", path));
  if (!map_it->is_object()) {
    return DataLossError(
        fmt::format("{}: \"weight_map\" is a JSON {}, not an object", path, map_it->type_name()));
  }
  Index index;
  for (const auto& [tensor, shard] : map_it->items()) {
    const auto* shard_name = shard.get_ptr<const std::string*>();
    if (shard_name == nullptr) {
      return DataLossError(fmt::format("{}: weight_map entry '{}' is a JSON {}, not a file name",
                                       path, EscapeForMessage(tensor), shard.type_name()));
    }
    if (!IsPlainFileName(*shard_name)) {
      return DataLossError(
          fmt::format("{}: weight_map entry '{}' names '{}', which is not a "
                      "plain file name in this directory",
                      path, EscapeForMessage(tensor), EscapeForMessage(*shard_name)));
    }
    index.weight_map.emplace(tensor, *shard_name);
    index.shard_names.push_back(*shard_name);
  }
  if (index.weight_map.empty()) return DataLossError(fmt::format("{}: weight_map is empty", path));
  std::sort(index.shard_names.begin(), index.shard_names.end());
  index.shard_names.erase(std::unique(index.shard_names.begin(), index.shard_names.end()),
                          index.shard_names.end());
  return index;
}

// Regular files ending in .safetensors directly inside `dir`, sorted by name.
StatusOr<std::vector<std::string>> ListShardFiles(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  std::vector<std::string> names;
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > kExtension.size() && name.ends_with(kExtension) &&
        FileExists(it->path().string())) {
      names.push_back(name);
    }
  }
  if (ec) return FailedPreconditionError(fmt::format("{}: cannot list: {}", dir, ec.message()));
  if (names.empty()) {
    return NotFoundError(
        fmt::format("{}: no {}, {} or *.safetensors files", dir, kIndexFileName, kSingleFileName));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

StatusOr<SafetensorsModel> SafetensorsModel::Open(const std::string& path) {
  SafetensorsModel model;
  model.path_ = path;
  std::optional<Index> index;
  std::string index_path;
  std::vector<std::string> shard_paths;
  if (IsDirectory(path)) {
    index_path = JoinPath(path, kIndexFileName);
    const std::string single_path = JoinPath(path, kSingleFileName);
    if (FileExists(index_path)) {
      DSI_ASSIGN_OR_RETURN(index, ReadIndex(index_path));
      for (const auto& name : index->shard_names) shard_paths.push_back(JoinPath(path, name));
    } else if (FileExists(single_path)) {
      shard_paths.push_back(single_path);
    } else {
      DSI_ASSIGN_OR_RETURN(const std::vector<std::string> names, ListShardFiles(path));
      for (const auto& name : names) shard_paths.push_back(JoinPath(path, name));
    }
  } else if (FileExists(path)) {
    shard_paths.push_back(path);
  } else {
    return NotFoundError(fmt::format("{}: no such file or directory", path));
  }

  model.shards_.reserve(shard_paths.size());
  for (const auto& shard_path : shard_paths) {
    auto shard = SafetensorsFile::Open(shard_path);
    if (!shard.ok()) {
      if (!index) return std::move(shard).status();
      return shard.status().WithContext(fmt::format("{}: shard named in weight_map", index_path));
    }
    model.shards_.push_back(std::move(shard).value());
  }

  // shards_ is final from here on, so pointers into it stay valid.
  for (size_t s = 0; s < model.shards_.size(); ++s) {
    for (const auto& tensor : model.shards_[s].tensors()) {
      model.tensors_.push_back(Entry{.tensor = &tensor, .shard = s});
      model.total_data_bytes_ += static_cast<int64_t>(tensor.data_end - tensor.data_begin);
      model.parameter_count_ += *tensor.shape.NumElements();
    }
  }
  std::sort(model.tensors_.begin(), model.tensors_.end(), [](const Entry& a, const Entry& b) {
    return a.tensor->name != b.tensor->name ? a.tensor->name < b.tensor->name : a.shard < b.shard;
  });
  for (size_t i = 1; i < model.tensors_.size(); ++i) {
    const Entry& a = model.tensors_[i - 1];
    const Entry& b = model.tensors_[i];
    if (a.tensor->name == b.tensor->name) {
      return DataLossError(fmt::format(
          "{}: tensor '{}' is in both {} and {}", path, EscapeForMessage(a.tensor->name),
          model.shards_[a.shard].name(), model.shards_[b.shard].name()));
    }
  }

  if (index) {
    for (const auto& [tensor, shard_name] : index->weight_map) {
      // shards_ was opened in shard_names order, so a name's position is its shard index.
      const auto named = static_cast<size_t>(
          std::lower_bound(index->shard_names.begin(), index->shard_names.end(), shard_name) -
          index->shard_names.begin());
      const Entry* entry = model.FindEntry(tensor);
      if (entry == nullptr || entry->shard != named) {
        return DataLossError(
            fmt::format("{}: weight_map puts tensor '{}' in {}, but that shard does not hold it{}",
                        index_path, EscapeForMessage(tensor), shard_name,
                        entry ? fmt::format(" (it is in {})", model.shards_[entry->shard].name())
                              : std::string()));
      }
    }
    // Every listed tensor was found, and names are unique, so any surplus is unlisted.
    if (model.tensors_.size() != index->weight_map.size()) {
      for (const Entry& entry : model.tensors_) {
        if (index->weight_map.find(entry.tensor->name) == index->weight_map.end()) {
          return DataLossError(fmt::format(
              "{}: {} holds tensor '{}', which weight_map does not "
              "list",
              index_path, model.shards_[entry.shard].name(), EscapeForMessage(entry.tensor->name)));
        }
      }
    }
  }
  return model;
}

const SafetensorsModel::Entry* SafetensorsModel::FindEntry(std::string_view name) const {
  const auto it = std::lower_bound(
      tensors_.begin(), tensors_.end(), name,
      [](const Entry& e, std::string_view n) { return std::string_view(e.tensor->name) < n; });
  return it != tensors_.end() && it->tensor->name == name ? &*it : nullptr;
}

const SafetensorsTensor* SafetensorsModel::Find(std::string_view name) const {
  const Entry* entry = FindEntry(name);
  return entry ? entry->tensor : nullptr;
}

int64_t SafetensorsModel::ShardOf(std::string_view name) const {
  const Entry* entry = FindEntry(name);
  return entry ? static_cast<int64_t>(entry->shard) : -1;
}

}  // namespace dsinfer
