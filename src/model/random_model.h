// Random models in the exact layout, tensor names and metadata of real checkpoints
// (`dsinfer random-model`): for tests of every arch and variant, for benchmarks, and for
// sizing hardware before downloading hundreds of GB.
//
// Values (seeded, reproducible: tensor element i of a name depends only on seed, name and i):
//   * matrices (attention, MLP, experts, embeddings, output, router): N(0, 0.02)-like (a sum of
//     four uniforms, scaled to std 0.02), the initializer_range of every HF config here;
//   * RMSNorm weights: 1 + N(0, 0.02)-like (real init is exactly 1; the jitter makes a missing
//     norm multiply visible in tests), biases and exp_probs_b: N(0, 0.02)-like;
//   * rope_freqs.weight (llama3): the real divisors llama.cpp's converter computes.
// Storage types follow tensor_storage_type.h, or with a mixture (Q4_K_M, ...) quant_mixture.h:
// a random Q4_K_M file is the one `dsinfer quantize` makes of the F32 file of the same seed.
// The GGUF carries the full llama.cpp metadata of
// gguf_metadata.h plus general.architecture/name/file_type/quantization_version.
//
// Memory: tensors are generated, quantised and written a few MiB of rows at a time, so a
// full-width V3 needs well under 100 MiB of RAM whatever its size. The file is written under
// "<path>.tmp" and renamed into place when complete.
//
// Thread safety: none needed; functions share no state.
#ifndef DSINFER_MODEL_RANDOM_MODEL_H_
#define DSINFER_MODEL_RANDOM_MODEL_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "formats/gguf_value.h"
#include "model/model_config.h"
#include "model/quant_mixture.h"
#include "model/tensor_layout.h"
#include "tensor/dtype.h"

namespace dsinfer {

struct RandomModelOptions {
  DType dtype = DType::kF32;  // requested type of matrices (F32, F16, BF16 or a block type)
  // llama.cpp's per-tensor mixture (quant_mixture.h) on top of `dtype`, its base type.
  std::optional<QuantMixture> mixture;
  uint64_t seed = 0;
  TensorLayoutOptions layout;
  std::string name = "random";  // general.name
  // Written after the model's own keys, e.g. a real tokenizer's tokenizer.* keys (the app
  // layer makes them: model/ does not depend on tokenizer/).
  std::vector<GgufKeyValue> extra_metadata;
};

struct RandomModelSummary {
  int64_t tensors = 0;
  int64_t parameters = 0;
  uint64_t file_bytes = 0;
};

StatusOr<RandomModelSummary> WriteRandomGguf(const ModelConfig& config,
                                             const RandomModelOptions& options,
                                             const std::string& path);

// Elements [first, first + out.size()) of tensor `spec` as WriteRandomGguf generates them,
// before quantisation (exposed for tests and for the HF writer to come).
void FillRandomValues(const TensorSpec& spec, const ModelConfig& config, uint64_t seed,
                      int64_t first, std::span<float> out);

}  // namespace dsinfer

#endif  // DSINFER_MODEL_RANDOM_MODEL_H_
