// HF checkpoint weights as GGUF tensors: every tensor of BuildTensorLayout(config) made from
// the safetensors tensors it comes from, exactly as llama.cpp's convert_hf_to_gguf.py makes
// it (hf_tensor_map.h: q/k rows permuted for llama/deepseek, experts stacked, kv_b_proj split
// into attn_k_b / attn_v_b), converted to float and stored in the type tensor_type_rules.h
// chooses. One path serves two users:
//   * LoadHfWeights: a WeightStore the model binds from (model/weight_store.h), owned buffers;
//   * `dsinfer convert` (hf_to_gguf.h): the same rows streamed into a GGUF file.
//
// Input dtypes: F32, F16, BF16, and F8_E4M3 with its "<name>_scale_inv" F32 block scales
// ([ceil(rows/b), ceil(cols/b)], w = fp8 * scale; shared/reference/deepseek-models.md §4).
// The float values are exact (F16/BF16 widen exactly; FP8 gives fp8 * scale in float), so a
// checkpoint converted to type T equals, bit for bit, the quantisation to T of those values.
//
// Checkpoint tensors the layout does not use are ignored (rotary_emb.inv_freq, V3's MTP layer
// model.layers.{num_hidden_layers}.*, lm_head.weight of a tied model, scale tensors).
// rope_freqs.weight (llama3) is computed as llama.cpp's converter computes it.
//
// Errors (checked for every tensor before any conversion starts) name the HF tensor and the
// GGUF tensor it is for: missing, a shape other than the config implies, an unsupported dtype,
// an FP8 weight without a well-shaped scale tensor. During conversion, a value that is NaN or
// infinite (in the weight, or from an FP8 scale) is an error naming the tensor and element:
// it would poison every output it reaches.
//
// Memory: conversion goes a chunk of rows at a time (16 MiB of floats per chunk, spread over
// the pool); the checkpoint is mapped, not read into memory.
//
// Thread safety: HfTensorReader is immutable after Create and may be read from many threads.
#ifndef DSINFER_MODEL_HF_WEIGHTS_H_
#define DSINFER_MODEL_HF_WEIGHTS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "formats/safetensors_model.h"
#include "model/model_config.h"
#include "model/tensor_layout.h"
#include "model/tensor_type_rules.h"
#include "model/weight_store.h"
#include "platform/thread_pool.h"
#include "tensor/dtype.h"

namespace dsinfer {

struct HfWeightOptions {
  DType dtype = DType::kBF16;  // weight matrices (norms, biases, router stay F32)
  // llama.cpp's per-tensor mixture on top of `dtype` (its base type), e.g. Q4_K_M.
  std::optional<QuantMixture> mixture;
  std::vector<TensorTypeRule> keep;  // per-tensor types, first match wins (--keep TYPE:PATTERN)
  TensorLayoutOptions layout;        // kv_b_proj split (llama.cpp's current form) or fused
  int64_t fp8_block_size = 128;      // quantization_config.weight_block_size (square blocks)
};

// The type policy of `options` for this model: a mixture reads the layers, heads and experts
// of the GGUF metadata `config` converts to (gguf_metadata.h), as it would in the written file.
StatusOr<TensorTypePolicy> HfTypePolicy(const ModelConfig& config, const HfWeightOptions& options);

class HfTensorReader {
 public:
  // One stored HF tensor viewed as rows x cols (a 1-D tensor: one row); `scale` for FP8.
  struct Stored {
    const SafetensorsTensor* tensor = nullptr;
    const SafetensorsTensor* scale = nullptr;
    int64_t rows = 0;
    int64_t cols = 0;
  };

  // Resolves and checks the HF tensors of every layout tensor. `model` must outlive the reader.
  static StatusOr<HfTensorReader> Create(const SafetensorsModel& model, const ModelConfig& config,
                                         const HfWeightOptions& options);

  const std::vector<TensorSpec>& layout() const { return layout_; }
  // The HF tensors layout()[index] is made from (one per expert when stacked; none for
  // rope_freqs).
  const std::vector<Stored>& sources(size_t index) const { return sources_[index]; }

  // Rows [row_begin, row_end) of layout()[index] (rows of ne[0] elements, in GGUF order) as
  // floats: out.size() == (row_end - row_begin) * ne[0].
  Status ReadRows(size_t index, int64_t row_begin, int64_t row_end, std::span<float> out) const;

 private:
  HfTensorReader() = default;
  // Rows [row_begin, row_end) of a stored tensor as floats, refused if one is not finite.
  Status DecodeRows(const Stored& stored, int64_t row_begin, int64_t row_end,
                    std::span<float> out) const;
  Status DecodeRowsUnchecked(const Stored& stored, int64_t row_begin, int64_t row_end,
                             std::span<float> out) const;

  ModelConfig config_;
  std::vector<TensorSpec> layout_;
  std::vector<std::vector<Stored>> sources_;  // per layout tensor; one per expert when stacked
  std::vector<int64_t> permuted_heads_;       // per layout tensor; 0: not permuted
  int64_t fp8_block_ = 128;
};

// Rows [row_begin, row_end) of layout()[index] in `type`, into `out` (exactly those rows'
// bytes), spread over `pool` (null: the calling thread).
Status ConvertHfRows(const HfTensorReader& reader, size_t index, DType type, int64_t row_begin,
                     int64_t row_end, std::span<std::byte> out, ThreadPool* pool);

// The rows per conversion chunk for a tensor with rows of `ne0` elements.
int64_t HfChunkRows(int64_t ne0);

// Every layout tensor converted, keyed by GGUF name (shapes outermost-first).
StatusOr<WeightStore> LoadHfWeights(const SafetensorsModel& model, const ModelConfig& config,
                                    const HfWeightOptions& options, ThreadPool* pool);

}  // namespace dsinfer

#endif  // DSINFER_MODEL_HF_WEIGHTS_H_
