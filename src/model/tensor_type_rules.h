// Which element type each tensor is stored in when a file is written (`dsinfer convert`) or
// rewritten (`dsinfer quantize`) "in type T", with per-tensor rules on top:
//
//   dsinfer quantize in.gguf out.gguf q4_k --keep q8_0:attn --keep f16:token_embd
//
// A rule "TYPE:PATTERN" gives TYPE to every tensor whose GGUF name contains PATTERN, a plain
// substring ("attn", "ffn_down_exps", "blk.0."); a leading '^' anchors it at the start of
// the name and a trailing '$' at the end ("^output.weight$" is the LM head alone, where
// "output" also matches attn_output). The first matching rule wins, in the order given.
//
// The choice for one tensor (ChooseTensorTypes, every tensor of a file at once):
//   1. Tensors that are not weight matrices (norms, biases, exp_probs_b, rope_freqs, the
//      router ffn_gate_inp: tensor_storage_type.h) are never changed by the type or the rules,
//      as llama.cpp's quantize and its --tensor-type leave them alone.
//   2. Otherwise the first matching rule's type; else, in a mixture such as Q4_K_M
//      (quant_mixture.h), the mixture's type for that tensor; else the requested type.
//   3. Rows that type cannot hold (ne0 not a multiple of its block) fall back as llama.cpp
//      does (tensor_storage_type.h: Q4_K -> Q5_0, Q6_K -> Q8_0, ..., else F16). With `pure`
//      nothing falls back: such a tensor is an error naming it, so a pure file holds only the
//      types asked for.
// Without a mixture or rules every matrix gets the requested type or its fallback (what
// llama-quantize --pure writes).
//
// Thread safety: pure functions.
#ifndef DSINFER_MODEL_TENSOR_TYPE_RULES_H_
#define DSINFER_MODEL_TENSOR_TYPE_RULES_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/quant_mixture.h"
#include "model/tensor_layout.h"
#include "tensor/dtype.h"

namespace dsinfer {

struct TensorTypeRule {
  DType type = DType::kF32;
  std::string pattern;  // as written, anchors included: "attn", "^output.weight$"

  bool Matches(std::string_view gguf_name) const;
  std::string ToString() const;  // "q8_0:attn"
};

// Parses "TYPE:PATTERN" (type names as ggml spells them, any case: q8_0, Q4_K, bf16). Errors
// name the text and say what is wrong: no ':', an unknown type or one that cannot store
// weights, an empty pattern.
StatusOr<TensorTypeRule> ParseTensorTypeRule(std::string_view text);
StatusOr<std::vector<TensorTypeRule>> ParseTensorTypeRules(std::span<const std::string> texts);

// The first rule matching `gguf_name`, or null.
const TensorTypeRule* FindTensorTypeRule(std::span<const TensorTypeRule> rules,
                                         std::string_view gguf_name);

// Ok if quant/ can write weights of `type` and multiply them (not an activation-only type
// such as Q8_K); the error lists the types that can.
Status CheckWeightType(DType type);
// "f32, f16, bf16, q4_0, ...": the types CheckWeightType accepts, for messages.
std::string WeightTypeNames();

// What a file or an HF load is asked to be stored in: a weight type ("q4_k": that type
// everywhere, with fallbacks) or one of llama.cpp's mixtures ("Q4_K_M": `type` is its base).
struct TypeRequest {
  DType type = DType::kF32;
  std::optional<QuantMixture> mixture;

  std::string Name() const;  // "q4_K", or the mixture's "Q4_K_M"
};
// Any case. Errors list both kinds of names, or say why a type cannot store weights.
StatusOr<TypeRequest> ParseTypeRequest(std::string_view name);
// "f32, f16, ..., iq4_xs, or a mixture: Q3_K_S, ..., Q5_K_M", for help texts.
std::string TypeRequestNames();

struct TensorTypePolicy {
  DType requested = DType::kF32;  // the file's type, or the mixture's base type
  // llama.cpp's per-tensor mixture, e.g. Q4_K_M; `model` is what it reads.
  std::optional<QuantMixture> mixture;
  MixtureModel model;
  std::vector<TensorTypeRule> rules;  // per-tensor overrides, first match wins
  bool pure = false;                  // no fallback types: an impossible row size is an error
};

// general.file_type of a file written under `policy`: the mixture's, else the requested
// type's (llama_file_type.h).
uint32_t FileTypeOf(const TensorTypePolicy& policy);

struct TensorTypeChoice {
  // False for tensors the policy never touches (step 1 above): `type` is then F32, the type
  // a writer gives them; a rewriter keeps whatever type they already have.
  bool weight_matrix = false;
  DType wanted = DType::kF32;            // the rule's, the mixture's or the requested type
  DType type = DType::kF32;              // what the tensor is stored in (step 3)
  const TensorTypeRule* rule = nullptr;  // the rule that chose `wanted`; points into the policy
  bool raised = false;                   // the mixture chose `wanted` over the requested type

  bool fell_back() const { return type != wanted; }
};

// " (rule q8_0:attn) (raised by the mixture) (fallback: q4_K cannot hold rows of 64)": how
// `choice` was made, for per-tensor progress lines; empty when the requested type was taken
// as is. `ne0`: the tensor's row length.
std::string DescribeTypeChoice(const TensorTypeChoice& choice, int64_t ne0);

// One choice per spec, in order: `specs` is every tensor of the file (a mixture counts them in
// llama-quantize's order, quant_mixture.h; a pure refusal names the first in file order).
// Fails with `policy.pure` for a matrix whose rows the wanted type cannot hold, with `pure`
// and a mixture together (a mixture is not one type), and where the mixture cannot place a
// tensor.
StatusOr<std::vector<TensorTypeChoice>> ChooseTensorTypes(std::span<const TensorSpec> specs,
                                                          const TensorTypePolicy& policy);

}  // namespace dsinfer

#endif  // DSINFER_MODEL_TENSOR_TYPE_RULES_H_
