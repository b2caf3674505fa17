// MakeAttentionSetup: the RoPE frequencies, pairing and softmax scale of a model.
#include <cmath>

#include <fmt/format.h>

#include "model/layers.h"

namespace dsinfer {

StatusOr<AttentionSetup> MakeAttentionSetup(const ModelConfig& config,
                                            std::span<const float> rope_divisors) {
  const RopeScalingConfig& r = config.rope;
  RopeConfig rope{
      .dims = static_cast<int>(config.uses_mla() ? config.qk_rope_head_dim : config.head_dim),
      .theta = r.theta,
      .scaling = r.scaling,
      .factor = r.factor,
      .original_max_position = r.original_max_position_embeddings,
      .beta_fast = r.beta_fast,
      .beta_slow = r.beta_slow,
      .mscale = r.mscale,
      .mscale_all_dim = r.mscale_all_dim,
      .low_freq_factor = r.low_freq_factor,
      .high_freq_factor = r.high_freq_factor};
  // A llama3 GGUF carries its frequency divisors as rope_freqs.weight (llama.cpp's converter
  // writes no scaling keys); ggml divides the plain frequencies by them.
  const bool divisors = !rope_divisors.empty();
  if (divisors) rope.scaling = RopeScalingType::kNone;
  AttentionSetup setup;
  DSI_ASSIGN_OR_RETURN(setup.inv_freq, RopeInverseFrequencies(rope));
  if (divisors) {
    if (rope_divisors.size() != setup.inv_freq.size()) {
      return InvalidArgumentError(
          fmt::format("rope_freqs.weight has {} values, head_dim {} needs {}", rope_divisors.size(),
                      rope.dims, setup.inv_freq.size()));
    }
    for (size_t i = 0; i < setup.inv_freq.size(); ++i) {
      setup.inv_freq[i] = static_cast<float>(double(setup.inv_freq[i]) / rope_divisors[i]);
    }
  }
  // GGUF convention per arch (reference §3.4): only qwen2 keeps HF's half-split pairs.
  setup.pairing =
      config.arch == ModelArch::kQwen2 ? RopePairing::kHalfSplit : RopePairing::kInterleaved;
  if (r.scaling == RopeScalingType::kYarn) setup.rope_attention_factor = YarnAttentionFactor(rope);
  if (config.uses_mla()) {
    const bool yarn = r.scaling == RopeScalingType::kYarn;
    setup.softmax_scale = static_cast<float>(MlaSoftmaxScale(
        static_cast<int>(config.qk_head_dim()), yarn ? r.factor : 1.0, r.mscale_all_dim));
  } else {
    setup.softmax_scale = static_cast<float>(1.0 / std::sqrt(double(config.head_dim)));
  }
  return setup;
}

}  // namespace dsinfer
