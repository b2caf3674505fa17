// Rotary position embedding (RoPE), scalar reference: the oracle for the SIMD bodies.
//
// Two parts. RopeInverseFrequencies turns a config (rope_theta, rope_scaling) into the
// per-pair frequencies inv_freq'[i] once per model; ApplyRope / ApplyRopeBatch rotate the
// pairs of a head by the angles position * inv_freq'[i]. Formulas and test vectors:
// shared/reference/deepseek-models.md §3.4-3.8; softmax scale and mscale: §3.6 and G4.
//
// Pairings (§3.4), for a rotary width d and pair i < d/2 rotated by a_i:
//
//   kInterleaved (GPT-J, ggml NORM):  (x[2i], x[2i+1])     d=8: [c s c s c s c s]
//   kHalfSplit   (NeoX, rotate_half): (x[i],  x[i+d/2])    d=8: [c c c c s s s s]
//
// DeepSeek V2/V3 (HF weights and every deepseek2 GGUF) use kInterleaved on the last
// qk_rope_head_dim = 64 values of each q head and on k_pe; Llama/Qwen2/MoE-16B HF weights use
// kHalfSplit on the whole head. q and the cached k must use the same pairing (G1).
//
// Precision: frequencies are computed in double and rounded to float (the table a model
// keeps, as HF keeps inv_freq in fp32). Angles are computed in double as
// double(position) * double(inv_freq'[i]) and cos/sin in double, so the oracle is the exact
// rotation for the float frequency table at every position. A float product p * inv_freq
// loses up to ulp(p)/2 radians (about 4e-3 rad at p = 163839, V3's full context), which is
// what fp32 implementations (HF, ggml) do; fast bodies are compared against this reference
// with a tolerance that grows with the position. The rotation itself is done in double and
// rounded to float once per value.
//
// Thread safety: pure functions over caller-owned memory.
#ifndef DSINFER_KERNELS_REFERENCE_ROPE_H_
#define DSINFER_KERNELS_REFERENCE_ROPE_H_

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"

namespace dsinfer {

enum class RopePairing {
  kInterleaved,  // pairs (x[2i], x[2i+1])
  kHalfSplit,    // pairs (x[i], x[i + d/2])
};

// rope_scaling.type ("rope_type" in newer configs); kNone when config.json has no rope_scaling.
enum class RopeScalingType { kNone, kLinear, kYarn, kLlama3 };

// Field names follow config.json (rope_theta, rope_scaling.*). Fields a scaling type does not
// use are ignored. Defaults are those of the HF code when a key is absent.
struct RopeConfig {
  int dims = 0;            // rotary width d (even): head_dim, or qk_rope_head_dim for MLA
  double theta = 10000.0;  // rope_theta
  RopeScalingType scaling = RopeScalingType::kNone;
  double factor = 1.0;                // rope_scaling.factor (linear, yarn, llama3)
  int64_t original_max_position = 0;  // original_max_position_embeddings (yarn, llama3)
  // YaRN (§3.6).
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 1.0;
  double mscale_all_dim = 0.0;
  // llama3 (§3.8).
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
};

// inv_freq'[i] for i = 0..dims/2-1: theta^(-2i/d), then scaled per `config.scaling`
// (linear: / factor; yarn: ramp between unchanged and / factor over the correction range;
// llama3: by wavelength band). InvalidArgument naming the field when the config is unusable.
StatusOr<std::vector<float>> RopeInverseFrequencies(const RopeConfig& config);

// YaRN's magnitude function m(s, c) = 1 if s <= 1 else 0.1 * c * ln(s) + 1.
double YarnMscale(double scale, double c);

// The factor cos/sin are multiplied by: m(factor, mscale) / m(factor, mscale_all_dim) for
// YaRN (1.0 for every DeepSeek config, where mscale == mscale_all_dim), 1.0 otherwise. This is
// the DeepSeek remote-code formula; with both keys absent it gives m(factor, 1) as HF does.
double YarnAttentionFactor(const RopeConfig& config);

// MLA softmax scale (§3.6 step 6): qk_head_dim^-1/2 * m(factor, mscale_all_dim)^2, where
// qk_head_dim = qk_nope_head_dim + qk_rope_head_dim (192). Pass factor 1 without rope_scaling.
// V3/R1: 0.1352338; V2, V2-Lite: 0.1147214. A GGUF's yarn_log_multiplier is
// 0.1 * mscale_all_dim (G4).
double MlaSoftmaxScale(int qk_head_dim, double factor, double mscale_all_dim);

// Rotates one head in place: `x` holds `dims` values, dims == 2 * inv_freq.size(). Each pair
// (u, w) becomes (u cos a - w sin a, u sin a + w cos a) * attention_factor with
// a = position * inv_freq[i]. Position 0 with attention_factor 1 is the identity.
void ApplyRope(RopePairing pairing, std::span<const float> inv_freq, int64_t position, float* x,
               int dims, double attention_factor = 1.0);

// Where the rotated values sit in a [n_tokens, n_heads, head_dim] activation.
struct RopeBatchLayout {
  int64_t n_heads = 1;
  int64_t head_dim = 0;     // values per head (the stride between heads)
  int64_t rope_offset = 0;  // first rotated value in each head (MLA q: qk_nope_head_dim)
};

// Rotates values [rope_offset, rope_offset + 2 * inv_freq.size()) of every head of every token;
// token t is at positions[t]. `x` is [positions.size(), n_heads, head_dim]. The result equals
// ApplyRope on each head's sub-range; other values are untouched. MLA: q with
// {H, 192, 128}, k_pe with {1, 64, 0}. Mismatched sizes are a broken invariant (CHECK).
void ApplyRopeBatch(RopePairing pairing, std::span<const float> inv_freq,
                    std::span<const int64_t> positions, const RopeBatchLayout& layout,
                    std::span<float> x, double attention_factor = 1.0);

}  // namespace dsinfer

#endif  // DSINFER_KERNELS_REFERENCE_ROPE_H_
