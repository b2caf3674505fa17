#include "model/random_model.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "formats/gguf_names.h"
#include "formats/gguf_writer.h"
#include "model/gguf_metadata.h"
#include "model/llama3_rope_freqs.h"
#include "model/tensor_type_rules.h"
#include "platform/atomic_file_writer.h"
#include "quant/quant_ops.h"
#include "quant/random_blocks.h"

namespace dsinfer {

namespace {

constexpr double kInitStd = 0.02;            // HF initializer_range
constexpr int64_t kChunkElements = 1 << 22;  // 16 MiB of floats per generated chunk
constexpr uint32_t kQuantizationVersion = 2;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

uint64_t TensorKey(uint64_t seed, std::string_view name) {
  uint64_t h = 0xCBF29CE484222325ULL;  // FNV-1a
  for (char ch : name) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001B3ULL;
  return SplitMix64(seed ^ SplitMix64(h));
}

// Sum of four 16-bit uniforms (Irwin-Hall), centred and scaled to unit variance: close
// enough to a normal for weights, and cheap enough for billions of elements.
float UnitNoise(uint64_t key, int64_t index) {
  const uint64_t bits = SplitMix64(key + static_cast<uint64_t>(index));
  const double sum = static_cast<double>((bits & 0xFFFF) + ((bits >> 16) & 0xFFFF) +
                                         ((bits >> 32) & 0xFFFF) + (bits >> 48));
  constexpr double kMean = 4 * 65535.0 / 2;
  constexpr double kStd = 37837.22723720648;  // sqrt(4 * (65536^2 - 1) / 12)
  return static_cast<float>((sum - kMean) / kStd);
}

// Generates, converts and writes one tensor a chunk of whole rows at a time.
Status WriteTensor(const TensorSpec& spec, DType dtype, const ModelConfig& config, uint64_t seed,
                   AtomicFileWriter& out) {
  const int64_t ne0 = spec.ne[0];
  const int64_t rows = spec.rows();
  DSI_ASSIGN_OR_RETURN(const int64_t row_bytes, RowBytes(dtype, ne0));
  const int64_t rows_per_chunk = std::max<int64_t>(1, kChunkElements / ne0);
  const bool read_only = FindQuantOps(dtype)->quantize == nullptr;
  // Read-only types never draw floats (random codes instead), so they need no float chunk.
  std::vector<float> values(read_only ? 0
                                      : static_cast<size_t>(std::min(rows, rows_per_chunk) * ne0));
  std::vector<std::byte> bytes(static_cast<size_t>(std::min(rows, rows_per_chunk) * row_bytes));
  for (int64_t row = 0; row < rows; row += rows_per_chunk) {
    const int64_t n_rows = std::min(rows_per_chunk, rows - row);
    const std::span<std::byte> packed(bytes.data(), static_cast<size_t>(n_rows * row_bytes));
    if (read_only) {
      // No quantiser to run: random codes with each block scaled to the float weights' RMS.
      DSI_RETURN_IF_ERROR(FillRandomBlocks(dtype, TensorKey(seed, spec.gguf_name) + row,
                                           static_cast<float>(kInitStd), packed));
    } else {
      const std::span<float> chunk(values.data(), static_cast<size_t>(n_rows * ne0));
      FillRandomValues(spec, config, seed, row * ne0, chunk);
      DSI_RETURN_IF_ERROR(QuantizeRows(dtype, chunk, ne0, packed));
    }
    DSI_RETURN_IF_ERROR(out.Write(packed.data(), packed.size()));
  }
  return Status::Ok();
}

Status CheckRequestedType(DType dtype) {
  const QuantOps* ops = FindQuantOps(dtype);
  if (ops == nullptr || ops->vec_dot == nullptr) {
    return InvalidArgumentError(
        fmt::format("type {} cannot store weights (no quantiser or an activation-only type)",
                    DTypeName(dtype)));
  }
  return Status::Ok();
}

}  // namespace

void FillRandomValues(const TensorSpec& spec, const ModelConfig& config, uint64_t seed,
                      int64_t first, std::span<float> out) {
  if (spec.role == TensorRole::kRopeFreqs) {
    for (size_t j = 0; j < out.size(); ++j) {
      out[j] = Llama3RopeDivisor(config.rope, config.head_dim, first + static_cast<int64_t>(j));
    }
    return;
  }
  const uint64_t key = TensorKey(seed, spec.gguf_name);
  const float offset = spec.role == TensorRole::kNorm ? 1.0F : 0.0F;
  for (size_t j = 0; j < out.size(); ++j) {
    out[j] =
        offset + static_cast<float>(kInitStd) * UnitNoise(key, first + static_cast<int64_t>(j));
  }
}

StatusOr<RandomModelSummary> WriteRandomGguf(const ModelConfig& config,
                                             const RandomModelOptions& options,
                                             const std::string& path) {
  DSI_RETURN_IF_ERROR(config.Validate());
  DSI_RETURN_IF_ERROR(CheckRequestedType(options.dtype));
  if (config.rope.scaling == RopeScalingType::kLlama3 && config.rope.factor == 0) {
    return InvalidArgumentError("llama3 rope scaling needs its parameters to compute rope_freqs");
  }
  const std::vector<TensorSpec> layout = BuildTensorLayout(config, options.layout);
  DSI_ASSIGN_OR_RETURN(std::vector<GgufKeyValue> metadata, GgufMetadataFor(config, options.layout));

  GgufWriter writer;
  DSI_RETURN_IF_ERROR(
      writer.AddKeyValue(std::string(gguf::kKeyArchitecture),
                         GgufValue::String(std::string(ModelArchName(config.arch)))));
  DSI_RETURN_IF_ERROR(
      writer.AddKeyValue(std::string(gguf::kKeyName), GgufValue::String(options.name)));
  // An extra key replaces the model's own of the same name (the tokenizer's BOS/EOS ids). The
  // extras go last, as `dsinfer convert` writes them, so that the two write the same bytes.
  std::erase_if(metadata, [&](const GgufKeyValue& kv) {
    return std::any_of(options.extra_metadata.begin(), options.extra_metadata.end(),
                       [&](const GgufKeyValue& extra) { return extra.key == kv.key; });
  });
  for (GgufKeyValue& kv : metadata) {
    DSI_RETURN_IF_ERROR(writer.AddKeyValue(std::move(kv.key), std::move(kv.value)));
  }
  TensorTypePolicy policy{.requested = options.dtype, .mixture = options.mixture};
  if (policy.mixture) {
    DSI_ASSIGN_OR_RETURN(policy.model, MixtureModelFor(config, options.layout));
  }
  DSI_RETURN_IF_ERROR(
      writer.AddKeyValue(std::string(gguf::kKeyFileType), GgufValue::U32(FileTypeOf(policy))));
  DSI_RETURN_IF_ERROR(writer.AddKeyValue(std::string(gguf::kKeyQuantizationVersion),
                                         GgufValue::U32(kQuantizationVersion)));
  for (const GgufKeyValue& kv : options.extra_metadata) {
    DSI_RETURN_IF_ERROR(writer.AddKeyValue(kv.key, kv.value));
  }

  // The policy takes any block type here: the read-only lattice types get random codes.
  DSI_ASSIGN_OR_RETURN(const std::vector<TensorTypeChoice> choices,
                       ChooseTensorTypes(layout, policy));
  RandomModelSummary summary;
  for (size_t t = 0; t < layout.size(); ++t) {
    DSI_RETURN_IF_ERROR(writer.AddTensorInfo(layout[t].gguf_name, choices[t].type, layout[t].ne));
    summary.parameters += layout[t].num_elements();
  }
  summary.tensors = static_cast<int64_t>(layout.size());

  AtomicFileWriter out(path);
  DSI_RETURN_IF_ERROR(out.Open());
  const std::vector<std::byte> header = writer.SerializeHeader();
  DSI_RETURN_IF_ERROR(out.Write(header.data(), header.size()));
  const uint64_t alignment = writer.alignment();
  for (size_t t = 0; t < layout.size(); ++t) {
    const uint64_t start = out.written();
    DSI_RETURN_IF_ERROR(WriteTensor(layout[t], choices[t].type, config, options.seed, out));
    const uint64_t size = out.written() - start;
    DSI_RETURN_IF_ERROR(out.Zeros(static_cast<size_t>((alignment - size % alignment) % alignment)));
  }
  const uint64_t expected = header.size() + writer.DataSectionSize();
  if (out.written() != expected) {
    return InternalError(
        fmt::format("{}: wrote {} bytes, the header promises {}", path, out.written(), expected));
  }
  DSI_RETURN_IF_ERROR(out.Commit());
  summary.file_bytes = expected;
  return summary;
}

}  // namespace dsinfer
