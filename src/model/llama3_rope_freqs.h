// The llama3 RoPE divisors llama.cpp's converter stores as rope_freqs.weight {head_dim / 2}
// (LlamaModel.generate_extra_tensors; shared/reference/deepseek-models.md §3.8): element i
// divides inv_freq[i] = theta^(-2i / head_dim). Shared by the random-model writer and the HF
// loader, which must produce the same tensor bit for bit.
//
// Thread safety: a pure function.
#ifndef DSINFER_MODEL_LLAMA3_ROPE_FREQS_H_
#define DSINFER_MODEL_LLAMA3_ROPE_FREQS_H_

#include <cstdint>

#include "model/model_config.h"

namespace dsinfer {

// `rope` must carry the llama3 parameters (factor, low/high_freq_factor, original context).
float Llama3RopeDivisor(const RopeScalingConfig& rope, int64_t head_dim, int64_t i);

}  // namespace dsinfer

#endif  // DSINFER_MODEL_LLAMA3_ROPE_FREQS_H_
