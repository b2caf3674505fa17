// QuantizeGguf: rewrites a GGUF file with its weight matrices in another type
// (`dsinfer quantize`), as llama.cpp's llama-quantize does:
//   * every metadata key is copied in order; general.file_type becomes the target's
//     llama_ftype (llama_file_type.h, or the mixture's) and general.quantization_version 2;
//   * tensors keep their names, shapes and order; their types follow tensor_type_rules.h
//     (requested type or mixture, per-tensor rules, llama.cpp's fallbacks or `pure`), each
//     tensor's role read from its GGUF name (TensorRoleFromGgufName) since a file has no
//     TensorSpec; a mixture reads the model's layers, heads and experts from the metadata
//     (`types.model` is ignored);
//   * a tensor whose type does not change (norms, biases, router, exp_probs_b, and matrices
//     already in their target type) is copied byte for byte; every other one is dequantised
//     to f32 and quantised with quant/, bit-exact with ggml's reference quantisers (what
//     llama-quantize writes without an importance matrix);
//   * an already quantised input is requantised without asking (llama-quantize wants
//     --allow-requantize): the result is the quantisation of its dequantised values, so the
//     two errors add up;
//   * a NaN or Inf in a tensor to convert is an error naming the tensor and row (llama.cpp
//     refuses rows that fail its validation);
//   * split-file keys (split.*) are copied: one part in, the same part out.
//
// Memory: a chunk of rows at a time (16 MiB of floats and its quantised bytes), spread over
// the thread pool; the input is mapped and each tensor's pages are dropped once written, so
// memory stays bounded whatever the model size.
//
// Safety: every type choice and input type is checked before OUT is created; OUT is written
// as "OUT.tmp" and renamed into place when complete; on any error it is removed. OUT (or
// OUT.tmp) naming the input file is refused: writing would destroy what is being read.
//
// Thread safety: QuantizeGguf uses the pool for the whole call; callers must not share it.
#ifndef DSINFER_MODEL_QUANTIZE_MODEL_H_
#define DSINFER_MODEL_QUANTIZE_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "model/tensor_layout.h"
#include "model/tensor_type_rules.h"
#include "platform/thread_pool.h"
#include "tensor/dtype.h"

namespace dsinfer {

// One tensor as written, for progress lines.
struct QuantizedTensor {
  size_t index = 0;  // position in the file, from 0
  size_t count = 0;  // tensors in the file
  std::string_view name;
  std::span<const int64_t> ne;  // ggml order
  DType from = DType::kF32;
  DType to = DType::kF32;
  TensorTypeChoice choice;  // how `to` was chosen (rule, fallback)
  bool converted = false;   // false: copied byte for byte
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
};

struct QuantizeOptions {
  TensorTypePolicy types;
  // Called on the calling thread after each tensor is written; may be empty.
  std::function<void(const QuantizedTensor&)> on_tensor;
};

struct QuantizeSummary {
  int64_t tensors = 0;
  int64_t converted = 0;  // dequantised and quantised again
  int64_t copied = 0;     // written unchanged
  int64_t fell_back = 0;  // stored in a fallback type (tensor_type_rules.h step 3)
  int64_t parameters = 0;
  uint64_t tensor_bytes_in = 0;
  uint64_t tensor_bytes_out = 0;
  uint64_t file_bytes = 0;  // size of OUT
};

// `pool` may be null (one thread).
StatusOr<QuantizeSummary> QuantizeGguf(const std::string& in, const std::string& out,
                                       const QuantizeOptions& options, ThreadPool* pool);

// A tensor's role from its llama.cpp GGUF name, with llama.cpp quantize's rules: token_embd
// and output by name; "*_norm.weight" norms; ffn_gate_inp the router; exp_probs_b the
// expert bias; rope_freqs; any other name not ending in "weight" (biases) kBias; the rest
// kWeight. Dimensions decide separately (1-D tensors are never quantised).
TensorRole TensorRoleFromGgufName(std::string_view name);

}  // namespace dsinfer

#endif  // DSINFER_MODEL_QUANTIZE_MODEL_H_
