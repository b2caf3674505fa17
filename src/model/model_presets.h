// Named model shapes for `dsinfer random-model --like NAME`, tests and benchmarks: the
// config.json hyper-parameters of the published DeepSeek checkpoints
// (shared/reference/deepseek-models.md §1.2-1.3), and "tiny-*" shapes small enough for unit
// tests (hidden 64, 2-4 layers, vocabulary 512, 8 experts) that keep every structural feature
// of their family: GQA, q/k/v biases, dense-then-MoE layers, shared experts, MLA with and
// without q-LoRA, each gating variant.
//
// Thread safety: pure functions over constant tables.
#ifndef DSINFER_MODEL_MODEL_PRESETS_H_
#define DSINFER_MODEL_MODEL_PRESETS_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/model_config.h"

namespace dsinfer {

// NotFound listing the known names for an unknown one.
StatusOr<ModelConfig> ModelPreset(std::string_view name);
std::vector<std::string_view> ModelPresetNames();
// The preset used when only an architecture is given: "tiny-<arch>".
std::string_view DefaultPresetFor(ModelArch arch);

// `config` cut to its first `layers` decoder layers (InvalidArgument unless 1 <= layers <=
// num_hidden_layers). A MoE model keeps at least one MoE layer: first_k_dense_replace is
// lowered to layers - 1 when needed, so a 2-layer V3 has one dense and one MoE layer.
StatusOr<ModelConfig> WithLayers(const ModelConfig& config, int64_t layers);

}  // namespace dsinfer

#endif  // DSINFER_MODEL_MODEL_PRESETS_H_
