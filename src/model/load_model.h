// LoadModel: a model from the files users have, ready to run: a GGUF file (mapped; its
// matrices copied onto huge pages for decode, packed where the kernels have a layout for the
// type, as stored otherwise while the copies fit 3/4 of the available memory:
// model/model_weights.h) or an HF checkpoint directory (config.json + safetensors, converted at
// load to `hf_type`: a type, or a mixture such as Q4_K_M).
#ifndef DSINFER_MODEL_LOAD_MODEL_H_
#define DSINFER_MODEL_LOAD_MODEL_H_

#include <string>

#include "base/status.h"
#include "model/model.h"
#include "model/tensor_type_rules.h"
#include "platform/thread_pool.h"
#include "tensor/dtype.h"

namespace dsinfer {

struct ModelLoadOptions {
  TypeRequest hf_type{.type = DType::kQ8_0};  // storage of an HF checkpoint's matrices
  bool pack_for_decode = true;                // ModelWeights::BindOptions
};

// Errors name the file and, for a broken model, the tensor or config field.
StatusOr<Model> LoadModel(const std::string& path, const ModelLoadOptions& options,
                          ThreadPool* pool);

}  // namespace dsinfer

#endif  // DSINFER_MODEL_LOAD_MODEL_H_
