#include "model/hf_weights.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "model/hf_tensor_map.h"
#include "model/llama3_rope_freqs.h"
#include "quant/fp8.h"
#include "quant/half.h"
#include "quant/quant_ops.h"

namespace dsinfer {

namespace {

constexpr int64_t kChunkElements = 1 << 22;  // 16 MiB of floats per conversion chunk

std::string ShapeText(std::span<const int64_t> dims) {
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

std::string ExpertName(std::string_view pattern, int64_t e) {
  const size_t at = pattern.find("{e}");
  return std::string(pattern.substr(0, at)) + std::to_string(e) +
         std::string(pattern.substr(at + 3));
}

bool IsKB(const TensorSpec& spec) { return spec.gguf_name.find(".attn_k_b.") != std::string::npos; }

// Finds and checks one HF tensor: present, shaped `shape`, a dtype we convert, FP8 with a
// scale tensor of the block grid.
StatusOr<HfTensorReader::Stored> Resolve(const SafetensorsModel& model, const std::string& name,
                                         std::span<const int64_t> shape, const TensorSpec& spec,
                                         int64_t fp8_block) {
  const auto fail = [&](std::string_view what) {
    return InvalidArgumentError(
        fmt::format("{}: tensor {} (for GGUF {}): {}", model.path(), name, spec.gguf_name, what));
  };
  const SafetensorsTensor* t = model.Find(name);
  if (t == nullptr) {
    return NotFoundError(
        fmt::format("{}: tensor {} (for GGUF {}) is missing", model.path(), name, spec.gguf_name));
  }
  const std::span<const int64_t> dims = t->shape.dims();
  if (!std::equal(dims.begin(), dims.end(), shape.begin(), shape.end())) {
    return fail(
        fmt::format("shape {}, expected {} for this config", ShapeText(dims), ShapeText(shape)));
  }
  HfTensorReader::Stored stored{.tensor = t};
  stored.cols = dims.empty() ? 1 : dims.back();
  stored.rows = stored.cols == 0 ? 0 : *t->shape.NumElements() / stored.cols;
  switch (t->dtype) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16: return stored;
    case DType::kF8E4M3: break;
    default:
      return fail(fmt::format("dtype {} is not converted (F32, F16, BF16, F8_E4M3 are)",
                              GetDTypeInfo(t->dtype).safetensors_name));
  }
  if (dims.size() != 2) return fail("an F8_E4M3 tensor must be a matrix");
  const std::string scale_name = name + "_scale_inv";
  stored.scale = model.Find(scale_name);
  if (stored.scale == nullptr) {
    return fail(fmt::format("F8_E4M3 without its block scales {}", scale_name));
  }
  const Fp8BlockScaledShape grid{.rows = stored.rows, .cols = stored.cols, .block = fp8_block};
  const std::vector<int64_t> scale_shape = {grid.scale_rows(), grid.scale_cols()};
  const std::span<const int64_t> scale_dims = stored.scale->shape.dims();
  if (stored.scale->dtype != DType::kF32 ||
      !std::equal(scale_dims.begin(), scale_dims.end(), scale_shape.begin(), scale_shape.end())) {
    return fail(fmt::format("scale tensor {} is {} {}, expected F32 {} ({}x{} blocks)", scale_name,
                            GetDTypeInfo(stored.scale->dtype).safetensors_name,
                            ShapeText(scale_dims), ShapeText(scale_shape), fp8_block, fp8_block));
  }
  return stored;
}

}  // namespace

StatusOr<HfTensorReader> HfTensorReader::Create(const SafetensorsModel& model,
                                                const ModelConfig& config,
                                                const HfWeightOptions& options) {
  DSI_RETURN_IF_ERROR(config.Validate());
  if (options.fp8_block_size <= 0) {
    return InvalidArgumentError(
        fmt::format("fp8 block size {} is not positive", options.fp8_block_size));
  }
  if (config.rope.scaling == RopeScalingType::kLlama3 && config.rope.factor == 0) {
    return InvalidArgumentError("llama3 rope scaling needs its parameters to compute rope_freqs");
  }
  HfTensorReader reader;
  reader.config_ = config;
  reader.fp8_block_ = options.fp8_block_size;
  reader.layout_ = BuildTensorLayout(config, options.layout);
  reader.sources_.resize(reader.layout_.size());
  reader.permuted_heads_.resize(reader.layout_.size());
  for (size_t i = 0; i < reader.layout_.size(); ++i) {
    const TensorSpec& spec = reader.layout_[i];
    std::vector<Stored>& sources = reader.sources_[i];
    switch (spec.hf_source) {
      case HfSource::kNone: break;
      case HfSource::kDirect:
      case HfSource::kSplitFromKvB: {
        DSI_ASSIGN_OR_RETURN(
            Stored s, Resolve(model, spec.hf_name, spec.hf_shape, spec, options.fp8_block_size));
        sources.push_back(s);
        reader.permuted_heads_[i] = QkPermutationHeads(spec, config);
        break;
      }
      case HfSource::kStackedExperts:
        for (int64_t e = 0; e < spec.ne.back(); ++e) {
          DSI_ASSIGN_OR_RETURN(Stored s, Resolve(model, ExpertName(spec.hf_name, e), spec.hf_shape,
                                                 spec, options.fp8_block_size));
          sources.push_back(s);
        }
        break;
    }
  }
  return reader;
}

Status HfTensorReader::DecodeRows(const Stored& s, int64_t row_begin, int64_t row_end,
                                  std::span<float> out) const {
  DSI_RETURN_IF_ERROR(DecodeRowsUnchecked(s, row_begin, row_end, out));
  const auto values = out.first(static_cast<size_t>((row_end - row_begin) * s.cols));
  const auto bad =
      std::find_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); });
  if (bad == values.end()) return Status::Ok();
  const auto at = static_cast<int64_t>(bad - values.begin());
  return InvalidArgumentError(
      fmt::format("{}: element [{}, {}] is {}; a checkpoint's weights must be finite",
                  s.tensor->name, row_begin + at / s.cols, at % s.cols, *bad));
}

Status HfTensorReader::DecodeRowsUnchecked(const Stored& s, int64_t row_begin, int64_t row_end,
                                           std::span<float> out) const {
  const size_t n = static_cast<size_t>((row_end - row_begin) * s.cols);
  const size_t first = static_cast<size_t>(row_begin * s.cols);
  const std::byte* bytes = s.tensor->view.bytes.data();
  switch (s.tensor->dtype) {
    case DType::kF32: std::memcpy(out.data(), bytes + first * 4, n * 4); return Status::Ok();
    case DType::kF16: {
      // The reader guarantees element alignment of views in a mapped file.
      const auto* h = reinterpret_cast<const uint16_t*>(bytes) + first;
      for (size_t j = 0; j < n; ++j) out[j] = Fp16ToFp32(h[j]);
      return Status::Ok();
    }
    case DType::kBF16: {
      const auto* h = reinterpret_cast<const uint16_t*>(bytes) + first;
      for (size_t j = 0; j < n; ++j) out[j] = Bf16ToFp32(h[j]);
      return Status::Ok();
    }
    case DType::kF8E4M3:
      return DequantizeFp8BlockScaled({.rows = s.rows, .cols = s.cols, .block = fp8_block_},
                                      s.tensor->view.As<uint8_t>(), s.scale->view.As<float>(),
                                      row_begin, row_end, out.first(n));
    default: return InternalError("unchecked HF dtype");
  }
}

Status HfTensorReader::ReadRows(size_t index, int64_t row_begin, int64_t row_end,
                                std::span<float> out) const {
  const TensorSpec& spec = layout_[index];
  const int64_t ne0 = spec.ne[0];
  if (row_begin < 0 || row_end > spec.rows() || row_begin > row_end ||
      static_cast<int64_t>(out.size()) != (row_end - row_begin) * ne0) {
    return InvalidArgumentError(fmt::format("{}: rows [{}, {}) of {} into {} floats",
                                            spec.gguf_name, row_begin, row_end, spec.rows(),
                                            out.size()));
  }
  const std::vector<Stored>& sources = sources_[index];
  const auto out_row = [&](int64_t g) {
    return out.subspan(static_cast<size_t>((g - row_begin) * ne0), static_cast<size_t>(ne0));
  };
  switch (spec.hf_source) {
    case HfSource::kNone:  // rope_freqs.weight {head_dim / 2}: one row
      for (int64_t j = 0; j < ne0; ++j) {
        out[static_cast<size_t>(j)] = Llama3RopeDivisor(config_.rope, config_.head_dim, j);
      }
      return Status::Ok();
    case HfSource::kDirect: {
      const Stored& s = sources[0];
      const int64_t heads = permuted_heads_[index];
      if (heads == 0) return DecodeRows(s, row_begin, row_end, out);
      if (spec.ne.size() == 1) {  // a q/k bias: its elements are the permuted "rows"
        std::vector<float> hf(static_cast<size_t>(ne0));
        DSI_RETURN_IF_ERROR(DecodeRows(s, 0, 1, hf));
        for (int64_t g = 0; g < ne0; ++g) {
          out[static_cast<size_t>(g)] = hf[static_cast<size_t>(HfRowOfPermutedRow(g, ne0 / heads))];
        }
        return Status::Ok();
      }
      for (int64_t g = row_begin; g < row_end; ++g) {
        const int64_t r = HfRowOfPermutedRow(g, s.rows / heads);
        DSI_RETURN_IF_ERROR(DecodeRows(s, r, r + 1, out_row(g)));
      }
      return Status::Ok();
    }
    case HfSource::kStackedExperts: {
      const int64_t per_expert = spec.ne[1];
      for (int64_t g = row_begin; g < row_end;) {
        const int64_t e = g / per_expert;
        const int64_t end = std::min(row_end, (e + 1) * per_expert);
        DSI_RETURN_IF_ERROR(DecodeRows(sources[static_cast<size_t>(e)], g - e * per_expert,
                                       end - e * per_expert,
                                       out.subspan(static_cast<size_t>((g - row_begin) * ne0),
                                                   static_cast<size_t>((end - g) * ne0))));
        g = end;
      }
      return Status::Ok();
    }
    case HfSource::kSplitFromKvB: {
      const Stored& s = sources[0];
      const int64_t dn = config_.qk_nope_head_dim;
      const int64_t dv = config_.v_head_dim;
      const int64_t rkv = config_.kv_lora_rank;
      const int64_t per_head = dn + dv;
      if (IsKB(spec)) {  // {dn, rkv, H}: row (h, c) is column c of the head's K rows
        std::vector<float> k(static_cast<size_t>(dn * rkv));
        for (int64_t g = row_begin; g < row_end;) {
          const int64_t h = g / rkv;
          const int64_t end = std::min(row_end, (h + 1) * rkv);
          DSI_RETURN_IF_ERROR(DecodeRows(s, h * per_head, h * per_head + dn, k));
          for (; g < end; ++g) {
            const int64_t c = g % rkv;
            float* row = out_row(g).data();
            for (int64_t n = 0; n < dn; ++n) row[n] = k[static_cast<size_t>(n * rkv + c)];
          }
        }
        return Status::Ok();
      }
      // attn_v_b {rkv, dv, H}: row (h, v) is the head's V row v.
      for (int64_t g = row_begin; g < row_end;) {
        const int64_t h = g / dv;
        const int64_t end = std::min(row_end, (h + 1) * dv);
        const int64_t first = h * per_head + dn + (g - h * dv);
        DSI_RETURN_IF_ERROR(DecodeRows(s, first, first + (end - g),
                                       out.subspan(static_cast<size_t>((g - row_begin) * ne0),
                                                   static_cast<size_t>((end - g) * ne0))));
        g = end;
      }
      return Status::Ok();
    }
  }
  return InternalError("unknown HF source");
}

int64_t HfChunkRows(int64_t ne0) { return std::max<int64_t>(1, kChunkElements / ne0); }

Status ConvertHfRows(const HfTensorReader& reader, size_t index, DType type, int64_t row_begin,
                     int64_t row_end, std::span<std::byte> out, ThreadPool* pool) {
  const TensorSpec& spec = reader.layout()[index];
  const int64_t ne0 = spec.ne[0];
  DSI_ASSIGN_OR_RETURN(const int64_t row_bytes, RowBytes(type, ne0));
  if (static_cast<int64_t>(out.size()) != (row_end - row_begin) * row_bytes) {
    return InvalidArgumentError(fmt::format("{}: {} bytes for {} rows of {}", spec.gguf_name,
                                            out.size(), row_end - row_begin, DTypeName(type)));
  }
  const int threads = pool == nullptr ? 1 : pool->num_threads();
  std::vector<Status> errors(static_cast<size_t>(threads));
  const auto convert = [&](int64_t begin, int64_t end, int thread) {
    if (begin == end) return;
    std::vector<float> values(static_cast<size_t>((end - begin) * ne0));
    Status s = reader.ReadRows(index, row_begin + begin, row_begin + end, values);
    if (s.ok()) {
      s = QuantizeRows(type, values, ne0,
                       out.subspan(static_cast<size_t>(begin * row_bytes),
                                   static_cast<size_t>((end - begin) * row_bytes)));
    }
    if (!s.ok()) errors[static_cast<size_t>(thread)] = std::move(s);
  };
  // attn_k_b rows come a head at a time (each head's K rows are decoded once).
  const int64_t grain =
      spec.hf_source == HfSource::kSplitFromKvB && IsKB(spec) ? reader.layout()[index].ne[1] : 1;
  if (pool == nullptr) {
    convert(0, row_end - row_begin, 0);
  } else {
    pool->ParallelFor(row_end - row_begin, convert, grain);
  }
  for (Status& s : errors) {
    if (!s.ok()) return std::move(s);
  }
  return Status::Ok();
}

StatusOr<TensorTypePolicy> HfTypePolicy(const ModelConfig& config, const HfWeightOptions& options) {
  TensorTypePolicy policy{
      .requested = options.dtype, .mixture = options.mixture, .rules = options.keep};
  DSI_RETURN_IF_ERROR(CheckWeightType(policy.requested));
  if (policy.mixture) {
    DSI_ASSIGN_OR_RETURN(policy.model, MixtureModelFor(config, options.layout));
  }
  return policy;
}

StatusOr<WeightStore> LoadHfWeights(const SafetensorsModel& model, const ModelConfig& config,
                                    const HfWeightOptions& options, ThreadPool* pool) {
  DSI_ASSIGN_OR_RETURN(const TensorTypePolicy policy, HfTypePolicy(config, options));
  DSI_ASSIGN_OR_RETURN(const HfTensorReader reader, HfTensorReader::Create(model, config, options));
  DSI_ASSIGN_OR_RETURN(const std::vector<TensorTypeChoice> choices,
                       ChooseTensorTypes(reader.layout(), policy));
  WeightStore store;
  for (size_t i = 0; i < reader.layout().size(); ++i) {
    const TensorSpec& spec = reader.layout()[i];
    const TensorTypeChoice& choice = choices[i];
    DSI_ASSIGN_OR_RETURN(const int64_t row_bytes, RowBytes(choice.type, spec.ne[0]));
    const int64_t rows = spec.rows();
    AlignedBuffer buffer(static_cast<size_t>(rows * row_bytes));
    const int64_t chunk = HfChunkRows(spec.ne[0]);
    for (int64_t r = 0; r < rows; r += chunk) {
      const int64_t end = std::min(rows, r + chunk);
      DSI_RETURN_IF_ERROR(
          ConvertHfRows(reader, i, choice.type, r, end,
                        buffer.bytes().subspan(static_cast<size_t>(r * row_bytes),
                                               static_cast<size_t>((end - r) * row_bytes)),
                        pool));
    }
    DSI_ASSIGN_OR_RETURN(const Shape shape, Shape::FromGgmlNe(spec.ne));
    DSI_RETURN_IF_ERROR(store.AddOwned(spec.gguf_name, choice.type, shape, std::move(buffer)));
  }
  return store;
}

}  // namespace dsinfer
