// SafetensorsModel: the weights of one HF checkpoint, in one or many .safetensors shards.
//
// Open(path) accepts a single .safetensors file or a checkpoint directory. In a directory the
// shards are found the way transformers finds them:
//   1. model.safetensors.index.json: every shard its "weight_map" names is opened once, and
//      each listed tensor must be in the shard the index names. A missing shard, a listed
//      tensor absent from its shard, or a shard tensor the index does not list is an error
//      (the index and the shards come from different downloads).
//   2. otherwise model.safetensors;
//   3. otherwise every *.safetensors in the directory, in name order.
// Tensor names are unique across shards; a duplicate is an error naming both shards.
// Shard names in an index must be plain file names (no '/', no ".."): the index is untrusted.
// A key repeated in the index (a tensor listed twice in weight_map) is an error rather than
// "last wins", and so is nesting deeper than 16 levels.
//
// Thread safety: immutable after Open(); safe to share between threads. Move-only.
#ifndef DSINFER_FORMATS_SAFETENSORS_MODEL_H_
#define DSINFER_FORMATS_SAFETENSORS_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "formats/safetensors_file.h"

namespace dsinfer {

class SafetensorsModel {
 public:
  // A tensor and the index of the shard (in shards()) that holds it.
  struct Entry {
    const SafetensorsTensor* tensor;
    size_t shard;
  };

  static StatusOr<SafetensorsModel> Open(const std::string& path);

  // Move-only: tensors() points into shards(), so a copy would point into the original.
  SafetensorsModel(SafetensorsModel&&) = default;
  SafetensorsModel& operator=(SafetensorsModel&&) = default;
  SafetensorsModel(const SafetensorsModel&) = delete;
  SafetensorsModel& operator=(const SafetensorsModel&) = delete;

  // The file or directory given to Open.
  const std::string& path() const { return path_; }
  // In the order they were opened: index shards and directory globs sorted by file name.
  const std::vector<SafetensorsFile>& shards() const { return shards_; }
  // Every tensor of every shard, sorted by name (byte-wise).
  const std::vector<Entry>& tensors() const { return tensors_; }
  const SafetensorsTensor* Find(std::string_view name) const;
  // Index of the shard holding `name`, or -1.
  int64_t ShardOf(std::string_view name) const;

  // Sum of all tensors' data bytes / element counts (FP8 scale tensors included).
  int64_t total_data_bytes() const { return total_data_bytes_; }
  int64_t parameter_count() const { return parameter_count_; }

 private:
  SafetensorsModel() = default;
  const Entry* FindEntry(std::string_view name) const;

  std::string path_;
  // Never modified after Open: tensors_ points into the shards' tensor vectors, whose heap
  // buffers survive moves of this object.
  std::vector<SafetensorsFile> shards_;
  std::vector<Entry> tensors_;
  int64_t total_data_bytes_ = 0;
  int64_t parameter_count_ = 0;
};

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_SAFETENSORS_MODEL_H_
