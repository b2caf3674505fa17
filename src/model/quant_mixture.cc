#include "model/quant_mixture.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <numeric>

#include <fmt/format.h>

#include "base/ascii.h"
#include "formats/gguf_names.h"
#include "formats/llama_file_type.h"
#include "model/gguf_metadata.h"

namespace dsinfer {

namespace {

// The name is llama-quantize's for the file type.
constexpr QuantMixtureInfo Mixture(QuantMixture mixture, DType base, uint32_t file_type) {
  return {mixture, *LlamaFileTypeName(file_type), base, file_type};
}

constexpr std::array<QuantMixtureInfo, 7> kMixtures = {
    Mixture(QuantMixture::kQ3_K_S, DType::kQ3_K, 11),
    Mixture(QuantMixture::kQ3_K_M, DType::kQ3_K, 12),
    Mixture(QuantMixture::kQ3_K_L, DType::kQ3_K, 13),
    Mixture(QuantMixture::kQ4_K_S, DType::kQ4_K, 14),
    Mixture(QuantMixture::kQ4_K_M, DType::kQ4_K, 15),
    Mixture(QuantMixture::kQ5_K_S, DType::kQ5_K, 16),
    Mixture(QuantMixture::kQ5_K_M, DType::kQ5_K, 17),
};

// llama.cpp's broad tensor categories, told apart by name in this order.
enum class Category : uint8_t {
  kOutput,
  kTokenEmbd,
  kAttentionV,  // attn_v, attn_kv_b, attn_qkv
  kAttentionK,
  kAttentionOutput,
  kFfnDown,
  kOther,
};

Category CategoryOf(std::string_view name) {
  const auto has = [name](std::string_view part) {
    return name.find(part) != std::string_view::npos;
  };
  if (name == gguf::kOutput) return Category::kOutput;
  if (name == gguf::kTokenEmbd) return Category::kTokenEmbd;
  if (has("attn_qkv.weight") || has("attn_kv_b.weight") || has("attn_v.weight")) {
    return Category::kAttentionV;
  }
  if (has("attn_k.weight")) return Category::kAttentionK;
  if (has("attn_q.weight")) return Category::kOther;
  if (has("attn_output.weight")) return Category::kAttentionOutput;
  // ffn_up and ffn_gate come first: "ffn_gate_up" is not a down projection.
  if (has("ffn_up") || has("ffn_gate")) return Category::kOther;
  if (has("ffn_down")) return Category::kFfnDown;
  return Category::kOther;
}

bool MoreBits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

std::optional<int64_t> IntegerOf(const GgufValue& value) {
  if (const GgufArray* array = value.AsArray()) {  // per-layer counts: layer 0's
    if (array->items.empty()) return std::nullopt;
    return array->items.front().AsInt64();
  }
  return value.AsInt64();
}

// "blk.12.ffn_down_exps.weight" -> 12.
std::optional<int64_t> LayerOf(std::string_view name) {
  if (!name.starts_with("blk.")) return std::nullopt;
  name.remove_prefix(4);
  int64_t layer = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), layer);
  if (ec != std::errc() || end == name.data() || end == name.data() + name.size() || *end != '.') {
    return std::nullopt;
  }
  return layer;
}

}  // namespace

std::vector<size_t> LlamaQuantizeOrder(std::span<const std::string_view> names) {
  std::vector<size_t> order(names.size());
  std::iota(order.begin(), order.end(), size_t{0});
  const auto layer = [&](size_t i) { return LayerOf(names[i]).value_or(-1); };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int64_t la = layer(a);
    const int64_t lb = layer(b);
    return la != lb ? la < lb : names[a] < names[b];
  });
  return order;
}

const QuantMixtureInfo& GetQuantMixtureInfo(QuantMixture mixture) {
  return kMixtures[static_cast<size_t>(mixture)];
}

std::optional<QuantMixture> QuantMixtureFromName(std::string_view name) {
  for (const QuantMixtureInfo& info : kMixtures) {
    if (EqualsIgnoreAsciiCase(name, info.name)) return info.mixture;
  }
  return std::nullopt;
}

std::string QuantMixtureNames() {
  std::string names;
  for (const QuantMixtureInfo& info : kMixtures) {
    names += fmt::format("{}{}", names.empty() ? "" : ", ", info.name);
  }
  return names;
}

StatusOr<MixtureModel> MixtureModelFromMetadata(std::span<const GgufKeyValue> metadata) {
  const auto find = [metadata](std::string_view key) -> const GgufValue* {
    for (const GgufKeyValue& kv : metadata) {
      if (kv.key == key) return &kv.value;
    }
    return nullptr;
  };
  MixtureModel model;
  const GgufValue* arch = find(gguf::kKeyArchitecture);
  if (arch == nullptr || arch->AsString() == nullptr) {
    return InvalidArgumentError(
        fmt::format("a quantisation mixture needs the model's {} (a string); the file has none",
                    gguf::kKeyArchitecture));
  }
  const std::string& arch_name = *arch->AsString();
  model.arch = ModelArchFromName(arch_name);
  const auto count = [&](std::string_view suffix) -> std::optional<int64_t> {
    const GgufValue* value = find(gguf::ArchKey(arch_name, suffix));
    return value == nullptr ? std::nullopt : IntegerOf(*value);
  };
  const std::optional<int64_t> layers = count(gguf::kKeyBlockCount);
  if (!layers || *layers <= 0) {
    return InvalidArgumentError(
        fmt::format("a quantisation mixture needs {} (a positive integer) to place its layers",
                    gguf::ArchKey(arch_name, gguf::kKeyBlockCount)));
  }
  model.layers = *layers;
  model.heads = count(gguf::kKeyHeadCount).value_or(0);
  model.kv_heads = count(gguf::kKeyHeadCountKv).value_or(model.heads);
  model.experts = count(gguf::kKeyExpertCount).value_or(0);
  return model;
}

StatusOr<MixtureModel> MixtureModelFor(const ModelConfig& config,
                                       const TensorLayoutOptions& layout) {
  DSI_ASSIGN_OR_RETURN(std::vector<GgufKeyValue> metadata, GgufMetadataFor(config, layout));
  metadata.push_back({.key = std::string(gguf::kKeyArchitecture),
                      .value = GgufValue::String(std::string(ModelArchName(config.arch)))});
  return MixtureModelFromMetadata(metadata);
}

QuantMixturePlanner::QuantMixturePlanner(QuantMixture mixture, MixtureModel model,
                                         std::span<const std::string_view> names)
    : mixture_(mixture), base_(GetQuantMixtureInfo(mixture).base), model_(model) {
  for (std::string_view name : names) {
    const Category category = CategoryOf(name);
    if (category == Category::kAttentionV) ++attn_v_count_;
    if (category == Category::kOutput) tied_output_ = false;
  }
  // The one model size llama.cpp singles out: 8 query heads share each attn_v, which makes
  // it small enough to raise cheaply.
  seventy_b_ = model_.layers == 80 &&
               (model_.arch == ModelArch::kQwen2 ||
                (model_.arch == ModelArch::kLlama && model_.heads != model_.kv_heads));
}

StatusOr<DType> QuantMixturePlanner::Next(std::string_view name, int64_t ne0) {
  const Category category = CategoryOf(name);
  const bool eight_experts = model_.experts == 8;
  if (category == Category::kOutput || (category == Category::kTokenEmbd && tied_output_)) {
    return ne0 % GetDTypeInfo(base_).block_size != 0 ? DType::kQ8_0 : DType::kQ6_K;
  }
  switch (category) {
    case Category::kAttentionV: return AttentionV();
    case Category::kAttentionK: return eight_experts ? DType::kQ8_0 : base_;
    case Category::kAttentionOutput:
      if (eight_experts) {
        const bool raised = Is(QuantMixture::kQ3_K_S) || Is(QuantMixture::kQ3_K_M) ||
                            Is(QuantMixture::kQ4_K_S) || Is(QuantMixture::kQ4_K_M);
        return raised ? DType::kQ5_K : base_;
      }
      if (Is(QuantMixture::kQ3_K_M)) return DType::kQ4_K;
      if (Is(QuantMixture::kQ3_K_L)) return DType::kQ5_K;
      return base_;
    case Category::kFfnDown: return FfnDown(name);
    default: return base_;
  }
}

DType QuantMixturePlanner::AttentionV() {
  const int64_t i = attn_v_seen_++;
  DType type = base_;
  if (Is(QuantMixture::kQ3_K_M)) {
    type = i < 2 ? DType::kQ5_K : DType::kQ4_K;
  } else if (Is(QuantMixture::kQ3_K_L) || (Is(QuantMixture::kQ4_K_S) && i < 4)) {
    type = DType::kQ5_K;
  } else if ((Is(QuantMixture::kQ4_K_M) || Is(QuantMixture::kQ5_K_M)) &&
             MoreBits(i, attn_v_count_)) {
    type = DType::kQ6_K;
  }
  if (seventy_b_ && (type == DType::kQ3_K || type == DType::kQ4_K)) type = DType::kQ5_K;
  if (model_.experts == 8) type = DType::kQ8_0;
  return type;
}

StatusOr<DType> QuantMixturePlanner::FfnDown(std::string_view name) {
  int64_t i = ffn_down_seen_++;
  const int64_t n = model_.layers;
  if (model_.experts > 1) {  // experts need not come in layer order: the layer is in the name
    const std::optional<int64_t> layer = LayerOf(name);
    if (!layer || *layer < 0 || *layer >= n) {
      return InvalidArgumentError(fmt::format(
          "tensor {}: no layer in [0, {}) in its name, which the {} mixture needs to place it",
          name, n, GetQuantMixtureInfo(mixture_).name));
    }
    i = *layer;
  }
  switch (mixture_) {
    case QuantMixture::kQ3_K_M: return i < n / 16 ? DType::kQ5_K : DType::kQ4_K;
    case QuantMixture::kQ3_K_L: return DType::kQ5_K;
    case QuantMixture::kQ4_K_M:
    case QuantMixture::kQ5_K_M: return MoreBits(i, n) ? DType::kQ6_K : base_;
    case QuantMixture::kQ4_K_S: return i < n / 8 ? DType::kQ5_K : base_;
    default: return base_;
  }
}

}  // namespace dsinfer
