#include "model/tensor_type_rules.h"

#include <numeric>

#include <fmt/format.h>

#include "formats/llama_file_type.h"
#include "model/tensor_storage_type.h"
#include "quant/quant_ops.h"

namespace dsinfer {

namespace {

bool CanStoreWeights(DType type) {
  const QuantOps* ops = FindQuantOps(type);
  return ops != nullptr && ops->quantize != nullptr && ops->dequantize != nullptr &&
         ops->vec_dot != nullptr;
}

// The tensors StorageTypeFor quantises: matrices in a weight, embedding or output role.
bool IsWeightMatrix(const TensorSpec& spec) {
  const bool matrix_role = spec.role == TensorRole::kWeight ||
                           spec.role == TensorRole::kEmbedding || spec.role == TensorRole::kOutput;
  return matrix_role && spec.ne.size() >= 2;
}

// "blk.3.attn_k_b.weight" -> "attn_k_b": a pattern to suggest in messages.
std::string_view BaseName(std::string_view name) {
  if (name.starts_with("blk.")) {
    const size_t dot = name.find('.', 4);
    if (dot != std::string_view::npos) name.remove_prefix(dot + 1);
  }
  if (const size_t dot = name.rfind('.'); dot != std::string_view::npos && dot > 0) {
    name = name.substr(0, dot);
  }
  return name;
}

Status PureRefusal(const TensorSpec& spec, const TensorTypeChoice& choice) {
  const DTypeInfo& info = GetDTypeInfo(choice.wanted);
  const DType fits =
      spec.ne[0] % GetDTypeInfo(DType::kQ8_0).block_size == 0 ? DType::kQ8_0 : DType::kF16;
  return InvalidArgumentError(fmt::format(
      "tensor {}: rows of {} elements cannot be stored in {} (blocks of {}); pure types have "
      "no fallback (llama.cpp's is {}): give it a type that fits with a rule such as {}:{}",
      spec.gguf_name, spec.ne[0], info.name, info.block_size, DTypeName(choice.type),
      DTypeName(fits), BaseName(spec.gguf_name)));
}

}  // namespace

std::string WeightTypeNames() {
  std::string names;
  for (const DTypeInfo& info : AllDTypes()) {
    if (!CanStoreWeights(info.dtype)) continue;
    names += fmt::format("{}{}", names.empty() ? "" : ", ", info.name);
  }
  return names;
}

bool TensorTypeRule::Matches(std::string_view gguf_name) const {
  std::string_view p = pattern;
  const bool at_start = p.starts_with('^');
  if (at_start) p.remove_prefix(1);
  const bool at_end = p.ends_with('$');
  if (at_end) p.remove_suffix(1);
  if (at_start && at_end) return gguf_name == p;
  if (at_start) return gguf_name.starts_with(p);
  if (at_end) return gguf_name.ends_with(p);
  return gguf_name.find(p) != std::string_view::npos;
}

std::string TensorTypeRule::ToString() const {
  return fmt::format("{}:{}", DTypeName(type), pattern);
}

Status CheckWeightType(DType type) {
  if (CanStoreWeights(type)) return Status::Ok();
  const QuantOps* ops = FindQuantOps(type);
  if (ops != nullptr && ops->vec_dot != nullptr) {
    return InvalidArgumentError(
        fmt::format("{}; weight types: {}", ReadOnlyTypeError(type).message(), WeightTypeNames()));
  }
  return InvalidArgumentError(fmt::format(
      "type {} cannot store weights (no quantiser, or an activation-only type); weight types: {}",
      DTypeName(type), WeightTypeNames()));
}

StatusOr<TensorTypeRule> ParseTensorTypeRule(std::string_view text) {
  const auto fail = [&](std::string_view why) {
    return InvalidArgumentError(fmt::format(
        "tensor type rule '{}': {} (expected TYPE:PATTERN, e.g. q8_0:attn)", text, why));
  };
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return fail("no ':'");
  const std::string_view type_name = text.substr(0, colon);
  const std::string_view pattern = text.substr(colon + 1);
  if (type_name.empty()) return fail("empty type");
  const std::optional<DType> type = DTypeFromName(type_name);
  if (!type) {
    return fail(fmt::format("'{}' is not a type; weight types: {}", type_name, WeightTypeNames()));
  }
  if (!CanStoreWeights(*type)) {
    return fail(fmt::format("{} cannot store weights; weight types: {}", DTypeName(*type),
                            WeightTypeNames()));
  }
  std::string_view core = pattern;
  if (core.starts_with('^')) core.remove_prefix(1);
  if (core.ends_with('$')) core.remove_suffix(1);
  if (core.empty()) return fail("empty pattern (it would match every tensor)");
  return TensorTypeRule{.type = *type, .pattern = std::string(pattern)};
}

StatusOr<std::vector<TensorTypeRule>> ParseTensorTypeRules(std::span<const std::string> texts) {
  std::vector<TensorTypeRule> rules;
  rules.reserve(texts.size());
  for (const std::string& text : texts) {
    DSI_ASSIGN_OR_RETURN(TensorTypeRule rule, ParseTensorTypeRule(text));
    rules.push_back(std::move(rule));
  }
  return rules;
}

const TensorTypeRule* FindTensorTypeRule(std::span<const TensorTypeRule> rules,
                                         std::string_view gguf_name) {
  for (const TensorTypeRule& rule : rules) {
    if (rule.Matches(gguf_name)) return &rule;
  }
  return nullptr;
}

std::string TypeRequest::Name() const {
  return std::string(mixture ? GetQuantMixtureInfo(*mixture).name : DTypeName(type));
}

StatusOr<TypeRequest> ParseTypeRequest(std::string_view name) {
  if (const std::optional<QuantMixture> mixture = QuantMixtureFromName(name)) {
    return TypeRequest{.type = GetQuantMixtureInfo(*mixture).base, .mixture = mixture};
  }
  const std::optional<DType> type = DTypeFromName(name);
  if (!type) {
    return InvalidArgumentError(
        fmt::format("'{}' is not a type; weight types: {}", name, TypeRequestNames()));
  }
  DSI_RETURN_IF_ERROR(CheckWeightType(*type));
  return TypeRequest{.type = *type};
}

std::string TypeRequestNames() {
  return fmt::format("{}, or a mixture: {}", WeightTypeNames(), QuantMixtureNames());
}

uint32_t FileTypeOf(const TensorTypePolicy& policy) {
  return policy.mixture ? GetQuantMixtureInfo(*policy.mixture).file_type
                        : LlamaFileType(policy.requested);
}

std::string DescribeTypeChoice(const TensorTypeChoice& choice, int64_t ne0) {
  std::string note;
  if (choice.rule != nullptr) note += fmt::format(" (rule {})", choice.rule->ToString());
  if (choice.raised) note += " (raised by the mixture)";
  if (choice.weight_matrix && choice.fell_back()) {
    note += fmt::format(" (fallback: {} cannot hold rows of {})", DTypeName(choice.wanted), ne0);
  }
  return note;
}

StatusOr<std::vector<TensorTypeChoice>> ChooseTensorTypes(std::span<const TensorSpec> specs,
                                                          const TensorTypePolicy& policy) {
  std::vector<std::string_view> names;
  names.reserve(specs.size());
  for (const TensorSpec& spec : specs) names.emplace_back(spec.gguf_name);
  std::optional<QuantMixturePlanner> planner;
  if (policy.mixture) {
    const QuantMixtureInfo& info = GetQuantMixtureInfo(*policy.mixture);
    if (policy.pure) {
      return InvalidArgumentError(fmt::format(
          "{} is a mixture of types, and pure asks for one: ask for {} with pure instead",
          info.name, DTypeName(info.base)));
    }
    if (policy.requested != info.base) {
      return InvalidArgumentError(fmt::format("the {} mixture is built on {}, not {}", info.name,
                                              DTypeName(info.base), DTypeName(policy.requested)));
    }
    planner.emplace(*policy.mixture, policy.model, names);
  }
  // A mixture counts tensors in llama-quantize's order; otherwise errors follow the file's.
  std::vector<size_t> order(specs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (planner) order = LlamaQuantizeOrder(names);
  std::vector<TensorTypeChoice> choices(specs.size());
  for (const size_t i : order) {
    const TensorSpec& spec = specs[i];
    TensorTypeChoice& choice = choices[i];
    if (!IsWeightMatrix(spec)) continue;  // F32, untouched by type, mixture and rules
    choice.weight_matrix = true;
    choice.rule = FindTensorTypeRule(policy.rules, spec.gguf_name);
    if (choice.rule != nullptr) {
      choice.wanted = choice.rule->type;
    } else if (planner) {
      DSI_ASSIGN_OR_RETURN(choice.wanted, planner->Next(spec.gguf_name, spec.ne[0]));
      choice.raised = choice.wanted != policy.requested;
    } else {
      choice.wanted = policy.requested;
    }
    choice.type = StorageTypeFor(spec, choice.wanted);
    if (policy.pure && choice.fell_back()) return PureRefusal(spec, choice);
  }
  return choices;
}

}  // namespace dsinfer
