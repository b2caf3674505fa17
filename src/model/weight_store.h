// WeightStore: the weight tensors of one model by their GGUF names, whatever file they came
// from. The model binds its layers from a store (model/model_weights.h), so GGUF files and HF
// checkpoints load through one path:
//
//   * GGUF: views into the mapped file, no copy (FromGguf keeps the file alive; the model
//     copies the matrices it decodes with onto huge pages, model/model_weights.h);
//   * HF safetensors: tensors converted at load (renamed, stacked, split, re-typed) into
//     buffers the store owns (model/hf_weights.h);
//   * derived tensors (e.g. MLA's attn_k_b/attn_v_b cut from a fused attn_kv_b) are added as
//     owned tensors next to the mapped ones.
//
// Views are TensorView: shape outermost-first (ggml ne reversed), exactly NumBytes(dtype)
// bytes. Thread safety: immutable after loading; views stay valid while the store lives.
// Move-only.
#ifndef DSINFER_MODEL_WEIGHT_STORE_H_
#define DSINFER_MODEL_WEIGHT_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/status.h"
#include "tensor/tensor_view.h"

namespace dsinfer {

class GgufFile;

class WeightStore {
 public:
  WeightStore() = default;
  WeightStore(WeightStore&&) = default;
  WeightStore& operator=(WeightStore&&) = default;
  WeightStore(const WeightStore&) = delete;
  WeightStore& operator=(const WeightStore&) = delete;

  // Every tensor of `file`, viewed in place.
  static WeightStore FromGguf(std::shared_ptr<const GgufFile> file);

  // Adds (or replaces) a tensor whose bytes the store owns. `shape` outermost-first; `data`
  // must hold exactly shape.NumBytes(dtype) bytes (InvalidArgument naming the tensor if not).
  Status AddOwned(std::string name, DType dtype, Shape shape, AlignedBuffer data);

  // nullptr when absent.
  const TensorView* Find(std::string_view name) const;
  // Whether `name` is a view into the mapped GGUF file (false for owned tensors, which replace
  // a mapped one of the same name, and for absent ones).
  bool IsMapped(std::string_view name) const;
  std::vector<std::string> Names() const;  // sorted
  size_t size() const { return views_.size(); }
  // Bytes owned by the store (converted or derived tensors), not counting mapped files.
  uint64_t owned_bytes() const;

 private:
  std::shared_ptr<const GgufFile> gguf_;
  std::vector<AlignedBuffer> owned_;
  std::unordered_map<std::string, TensorView> views_;
};

}  // namespace dsinfer

#endif  // DSINFER_MODEL_WEIGHT_STORE_H_
