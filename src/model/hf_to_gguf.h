// ConvertHfToGguf: an HF checkpoint written as a GGUF file llama.cpp loads (`dsinfer convert`):
// the tensors of BuildTensorLayout(config) with llama.cpp's names, shapes and layouts, made by
// hf_weights.h (the same rows LoadHfWeights makes, so a converted file and a direct HF load
// are identical tensor for tensor), and the metadata of llama.cpp's converter:
//
//   general.architecture, general.name, the {arch}.* keys of gguf_metadata.h,
//   general.file_type (the requested type's or mixture's llama_ftype),
//   general.quantization_version, then `metadata` (the tokenizer's keys); a key given there
//   replaces the model's own (the tokenizer_config.json BOS/EOS win over config.json's, as in
//   llama.cpp's SpecialVocab).
//
// Streaming: tensors are converted a chunk of rows at a time and written as they come, so
// memory stays at a few chunks whatever the model's size; the checkpoint is only mapped.
// The file is written as "<out>.tmp" and renamed when complete; every HF tensor is checked
// (present, shaped, typed) and every type choice made before it is created.
//
// Thread safety: uses `pool` for the whole call.
#ifndef DSINFER_MODEL_HF_TO_GGUF_H_
#define DSINFER_MODEL_HF_TO_GGUF_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "formats/gguf_value.h"
#include "formats/safetensors_model.h"
#include "model/hf_weights.h"
#include "model/model_config.h"
#include "platform/thread_pool.h"

namespace dsinfer {

// One tensor as written, for progress lines.
struct HfConvertedTensor {
  size_t index = 0;  // position in the file, from 0
  size_t count = 0;  // tensors in the file
  std::string_view name;
  std::span<const int64_t> ne;  // ggml order
  DType from = DType::kF32;     // the HF tensor's dtype (F32 for computed rope_freqs)
  TensorTypeChoice choice;      // `choice.type` is what was written
  uint64_t bytes_in = 0;        // HF bytes read (scales included)
  uint64_t bytes_out = 0;
};

struct HfConvertOptions {
  HfWeightOptions weights;
  std::string name = "";               // general.name
  std::vector<GgufKeyValue> metadata;  // e.g. tokenizer_gguf_metadata.h's keys
  // Called on the calling thread after each tensor is written; may be empty.
  std::function<void(const HfConvertedTensor&)> on_tensor;
};

struct HfConvertSummary {
  int64_t tensors = 0;
  int64_t fell_back = 0;  // stored in a fallback type (tensor_type_rules.h)
  int64_t parameters = 0;
  uint64_t tensor_bytes_in = 0;
  uint64_t tensor_bytes_out = 0;
  uint64_t file_bytes = 0;
};

// `pool` may be null (one thread).
StatusOr<HfConvertSummary> ConvertHfToGguf(const SafetensorsModel& model, const ModelConfig& config,
                                           const HfConvertOptions& options, const std::string& out,
                                           ThreadPool* pool);

}  // namespace dsinfer

#endif  // DSINFER_MODEL_HF_TO_GGUF_H_
