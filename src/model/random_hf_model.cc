#include "model/random_hf_model.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <filesystem>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "formats/safetensors_writer.h"
#include "model/hf_config_json.h"
#include "model/hf_tensor_map.h"
#include "model/random_model.h"
#include "platform/atomic_file_writer.h"
#include "quant/fp8.h"
#include "quant/quant_ops.h"

namespace dsinfer {

namespace {

constexpr int64_t kChunkElements = 1 << 22;  // 16 MiB of floats per generated chunk

// How an HF tensor's values come out of a GGUF TensorSpec (hf_tensor_map.h).
enum class Source { kDirect, kPermuted, kExpert, kKvB };

// One HF tensor to write. Matrices are viewed as rows x cols; a 1-D tensor as n rows of one
// element, so that q/k bias permutation is a row permutation too.
struct HfTensor {
  std::string name;
  std::vector<int64_t> shape;  // as stored
  DType dtype = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  Source source = Source::kDirect;
  const TensorSpec* spec = nullptr;    // the values (attn_k_b for kKvB)
  const TensorSpec* v_spec = nullptr;  // kKvB: attn_v_b
  int64_t heads = 0;                   // kPermuted
  int64_t expert = 0;                  // kExpert
  // The weight_scale_inv of an FP8 weight: rows/cols/source describe the weight, `shape` and
  // `dtype` the scale tensor.
  bool is_scale = false;

  uint64_t bytes() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return static_cast<uint64_t>(n * GetDTypeInfo(dtype).type_size);
  }
};

std::string ReplaceExpert(std::string_view pattern, int64_t e) {
  const size_t at = pattern.find("{e}");
  return std::string(pattern.substr(0, at)) + std::to_string(e) +
         std::string(pattern.substr(at + 3));
}

// V3 ships every linear weight inside the decoder layers in FP8, nothing else (§2.4, §4); the
// MTP layer's own eh_proj stays BF16.
bool IsFp8Linear(const TensorSpec& spec) {
  return spec.role == TensorRole::kWeight && spec.layer >= 0 &&
         spec.gguf_name.find(".nextn.") == std::string::npos;
}

DType StoredType(const TensorSpec& spec, DType requested) {
  if (spec.role == TensorRole::kExpertBias) return DType::kF32;
  if (requested != DType::kF8E4M3) return requested;
  return IsFp8Linear(spec) ? DType::kF8E4M3 : DType::kBF16;
}

class Planner {
 public:
  Planner(const ModelConfig& config, DType dtype, std::vector<HfTensor>* out)
      : config_(config), dtype_(dtype), out_(out) {}

  // Adds the HF tensor(s) `spec` is made of; specs must outlive the plan.
  void Add(const TensorSpec& spec, const std::vector<TensorSpec>& layout, size_t index) {
    if (spec.hf_source == HfSource::kNone) return;  // rope_freqs: computed by the loader
    HfTensor t{.name = spec.hf_name,
               .shape = spec.hf_shape,
               .dtype = StoredType(spec, dtype_),
               .rows = spec.hf_shape[0],
               .cols = spec.hf_shape.size() == 1 ? 1 : spec.hf_shape[1],
               .spec = &spec};
    switch (spec.hf_source) {
      case HfSource::kNone: return;
      case HfSource::kDirect:
        t.heads = QkPermutationHeads(spec, config_);
        t.source = t.heads > 0 ? Source::kPermuted : Source::kDirect;
        Push(std::move(t));
        return;
      case HfSource::kStackedExperts:
        for (int64_t e = 0; e < spec.ne.back(); ++e) {
          HfTensor expert = t;
          expert.name = ReplaceExpert(spec.hf_name, e);
          expert.source = Source::kExpert;
          expert.expert = e;
          Push(std::move(expert));
        }
        return;
      case HfSource::kSplitFromKvB:
        // attn_k_b and attn_v_b are adjacent in the layout; kv_b_proj is written once, at k_b.
        if (index + 1 >= layout.size() || layout[index + 1].hf_name != spec.hf_name) return;
        t.source = Source::kKvB;
        t.v_spec = &layout[index + 1];
        Push(std::move(t));
        return;
    }
  }

 private:
  void Push(HfTensor t) {
    if (t.dtype == DType::kF8E4M3) {
      const Fp8BlockScaledShape fp8{.rows = t.rows, .cols = t.cols};
      HfTensor scale = t;
      scale.name = t.name + "_scale_inv";  // "...proj.weight" -> "...proj.weight_scale_inv"
      scale.shape = {fp8.scale_rows(), fp8.scale_cols()};
      scale.dtype = DType::kF32;
      scale.is_scale = true;
      out_->push_back(std::move(t));
      out_->push_back(std::move(scale));
      return;
    }
    out_->push_back(std::move(t));
  }

  const ModelConfig& config_;
  DType dtype_;
  std::vector<HfTensor>* out_;
};

// The MTP module's own tensors (§2.5), named as llama.cpp would name them in GGUF so each gets
// its own random values.
void AddMtpExtras(const ModelConfig& c, int64_t layer, std::deque<TensorSpec>* specs) {
  const int64_t d = c.hidden_size;
  const auto add = [&](std::string_view leaf, std::string_view gguf_leaf, std::vector<int64_t> ne,
                       TensorRole role) {
    std::vector<int64_t> hf(ne.rbegin(), ne.rend());
    specs->push_back(TensorSpec{.gguf_name = fmt::format("blk.{}.nextn.{}", layer, gguf_leaf),
                                .ne = std::move(ne),
                                .hf_name = fmt::format("model.layers.{}.{}", layer, leaf),
                                .hf_shape = std::move(hf),
                                .hf_source = HfSource::kDirect,
                                .role = role,
                                .layer = layer});
  };
  add("enorm.weight", "enorm.weight", {d}, TensorRole::kNorm);
  add("hnorm.weight", "hnorm.weight", {d}, TensorRole::kNorm);
  add("eh_proj.weight", "eh_proj.weight", {2 * d, d}, TensorRole::kWeight);
  add("embed_tokens.weight", "embed_tokens.weight", {d, c.vocab_size}, TensorRole::kEmbedding);
  add("shared_head.norm.weight", "shared_head_norm.weight", {d}, TensorRole::kNorm);
  add("shared_head.head.weight", "shared_head_head.weight", {d, c.vocab_size}, TensorRole::kOutput);
}

// Rows [row_begin, row_end) of `t` (the weight's rows for a scale) as floats.
void FillRows(const HfTensor& t, const ModelConfig& config, uint64_t seed, int64_t row_begin,
              int64_t row_end, std::span<float> out, std::vector<float>& scratch) {
  const int64_t cols = t.cols;
  switch (t.source) {
    case Source::kDirect: FillRandomValues(*t.spec, config, seed, row_begin * cols, out); return;
    case Source::kExpert:
      FillRandomValues(*t.spec, config, seed, (t.expert * t.rows + row_begin) * cols, out);
      return;
    case Source::kPermuted: {
      const int64_t head_rows = t.rows / t.heads;
      for (int64_t r = row_begin; r < row_end; ++r) {
        FillRandomValues(
            *t.spec, config, seed, GgufRowOfPermutedHfRow(r, head_rows) * cols,
            out.subspan(static_cast<size_t>((r - row_begin) * cols), static_cast<size_t>(cols)));
      }
      return;
    }
    case Source::kKvB: {
      const int64_t dn = config.qk_nope_head_dim;
      const int64_t dv = config.v_head_dim;
      const int64_t per_head = dn + dv;  // rows of one head; cols = kv_lora_rank
      for (int64_t h = row_begin / per_head; h * per_head < row_end; ++h) {
        const int64_t head_begin = h * per_head;
        const int64_t r0 = std::max(row_begin, head_begin);
        const int64_t r1 = std::min(row_end, head_begin + per_head);
        // K rows: attn_k_b's head slab {dn, rkv} transposed.
        if (r0 < head_begin + dn) {
          scratch.resize(static_cast<size_t>(dn * cols));
          FillRandomValues(*t.spec, config, seed, h * cols * dn, scratch);
          for (int64_t r = r0; r < std::min(r1, head_begin + dn); ++r) {
            const int64_t n = r - head_begin;
            float* row = out.data() + (r - row_begin) * cols;
            for (int64_t c = 0; c < cols; ++c) row[c] = scratch[static_cast<size_t>(c * dn + n)];
          }
        }
        // V rows: attn_v_b's rows {rkv} of this head, in order.
        const int64_t v0 = std::max(r0, head_begin + dn);
        if (v0 < r1) {
          FillRandomValues(*t.v_spec, config, seed, (h * dv + (v0 - head_begin - dn)) * cols,
                           out.subspan(static_cast<size_t>((v0 - row_begin) * cols),
                                       static_cast<size_t>((r1 - v0) * cols)));
        }
      }
      return;
    }
  }
}

// Generates `t` a chunk of rows at a time and streams it into `writer`.
Status WriteTensor(const HfTensor& t, const ModelConfig& config, uint64_t seed,
                   SafetensorsWriter& writer) {
  const bool fp8 = t.is_scale || t.dtype == DType::kF8E4M3;
  int64_t rows_per_chunk = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(1, t.cols));
  if (fp8) {  // whole 128-row blocks, so each chunk's scales are the file's
    rows_per_chunk = std::max(kFp8BlockSize, rows_per_chunk / kFp8BlockSize * kFp8BlockSize);
  }
  const int64_t chunk_rows = std::min(t.rows, rows_per_chunk);
  std::vector<float> values(static_cast<size_t>(chunk_rows * t.cols));
  std::vector<float> scratch;
  std::vector<std::byte> bytes;
  std::vector<uint8_t> fp8_bytes;
  std::vector<float> scales;
  for (int64_t row = 0; row < t.rows; row += rows_per_chunk) {
    const int64_t n_rows = std::min(rows_per_chunk, t.rows - row);
    const std::span<float> chunk(values.data(), static_cast<size_t>(n_rows * t.cols));
    FillRows(t, config, seed, row, row + n_rows, chunk, scratch);
    if (!fp8) {
      DSI_ASSIGN_OR_RETURN(const int64_t row_bytes, RowBytes(t.dtype, t.cols));
      bytes.resize(static_cast<size_t>(n_rows * row_bytes));
      DSI_RETURN_IF_ERROR(QuantizeRows(t.dtype, chunk, t.cols, bytes));
      DSI_RETURN_IF_ERROR(writer.Write(t.name, bytes));
      continue;
    }
    const Fp8BlockScaledShape shape{.rows = n_rows, .cols = t.cols};
    fp8_bytes.resize(chunk.size());
    scales.resize(static_cast<size_t>(shape.scale_rows() * shape.scale_cols()));
    DSI_RETURN_IF_ERROR(QuantizeFp8BlockScaled(shape, chunk, fp8_bytes, scales));
    // The scale tensor and the weight are separate entries of the file: each pass generates
    // the values again and keeps its half.
    if (t.is_scale) {
      DSI_RETURN_IF_ERROR(writer.Write(t.name, std::as_bytes(std::span(scales))));
    } else {
      DSI_RETURN_IF_ERROR(writer.Write(t.name, std::as_bytes(std::span(fp8_bytes))));
    }
  }
  return Status::Ok();
}

Status WriteTextFile(const std::string& path, std::string_view text) {
  AtomicFileWriter out(path);
  DSI_RETURN_IF_ERROR(out.Open());
  DSI_RETURN_IF_ERROR(out.Write(text.data(), text.size()));
  return out.Commit();
}

Status CheckDtype(DType dtype) {
  if (dtype == DType::kF32 || dtype == DType::kF16 || dtype == DType::kBF16 ||
      dtype == DType::kF8E4M3) {
    return Status::Ok();
  }
  return InvalidArgumentError(
      fmt::format("HF checkpoints are written in f32, f16, bf16 or f8_e4m3 (V3's FP8), not {}",
                  DTypeName(dtype)));
}

}  // namespace

StatusOr<RandomHfSummary> WriteRandomHf(const ModelConfig& config, const RandomHfOptions& options,
                                        const std::string& dir) {
  DSI_RETURN_IF_ERROR(CheckDtype(options.dtype));
  DSI_ASSIGN_OR_RETURN(const std::string config_json, HfConfigJsonFor(config, options.dtype));

  // The main layers, then V3's MTP layers: whole decoder layers numbered on from the last one
  // plus their own tensors (§2.5).
  const std::vector<TensorSpec> layout = BuildTensorLayout(config, options.layout);
  std::vector<TensorSpec> mtp_layout;
  std::deque<TensorSpec> mtp_extras;
  const int64_t mtp_layers = config.uses_mla() ? config.num_nextn_predict_layers : 0;
  if (mtp_layers > 0) {
    ModelConfig with_mtp = config;
    with_mtp.num_hidden_layers += mtp_layers;
    for (TensorSpec& spec : BuildTensorLayout(with_mtp, options.layout)) {
      if (spec.layer >= config.num_hidden_layers) mtp_layout.push_back(std::move(spec));
    }
    for (int64_t i = 0; i < mtp_layers; ++i) {
      AddMtpExtras(config, config.num_hidden_layers + i, &mtp_extras);
    }
  }
  std::vector<HfTensor> tensors;
  Planner planner(config, options.dtype, &tensors);
  for (size_t i = 0; i < layout.size(); ++i) planner.Add(layout[i], layout, i);
  for (size_t i = 0; i < mtp_layout.size(); ++i) planner.Add(mtp_layout[i], mtp_layout, i);
  for (const TensorSpec& spec : mtp_extras) planner.Add(spec, {}, 0);

  // Shards: tensors in plan order, a new shard when the next would overflow this one; an FP8
  // weight and its scale (adjacent in the plan) go together.
  std::vector<size_t> shard_of(tensors.size());
  std::vector<uint64_t> shard_bytes{0};
  for (size_t i = 0; i < tensors.size(); ++i) {
    uint64_t bytes = tensors[i].bytes();
    const bool with_scale = i + 1 < tensors.size() && tensors[i + 1].is_scale;
    if (with_scale) bytes += tensors[i + 1].bytes();
    if (shard_bytes.back() > 0 && shard_bytes.back() + bytes > options.max_shard_bytes) {
      shard_bytes.push_back(0);
    }
    shard_bytes.back() += bytes;
    shard_of[i] = shard_bytes.size() - 1;
    if (with_scale) shard_of[++i] = shard_bytes.size() - 1;
  }
  const size_t n_shards = shard_bytes.size();
  const auto shard_name = [&](size_t s) {
    return n_shards == 1 ? std::string("model.safetensors")
                         : fmt::format("model-{:05d}-of-{:05d}.safetensors", s + 1, n_shards);
  };

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return FailedPreconditionError(fmt::format("{}: cannot create: {}", dir, ec.message()));
  RandomHfSummary summary{.shards = static_cast<int64_t>(n_shards)};
  nlohmann::json weight_map = nlohmann::json::object();
  for (size_t s = 0; s < n_shards; ++s) {
    SafetensorsWriter writer;
    std::unordered_map<std::string, const HfTensor*> by_name;
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (shard_of[i] != s) continue;
      const HfTensor& t = tensors[i];
      DSI_ASSIGN_OR_RETURN(const Shape shape, Shape::FromDims(t.shape));
      DSI_RETURN_IF_ERROR(writer.AddTensor(t.name, t.dtype, shape));
      by_name[t.name] = &t;
      weight_map[t.name] = shard_name(s);
      ++summary.tensors;
      if (!t.is_scale) summary.parameters += t.rows * t.cols;
    }
    DSI_RETURN_IF_ERROR(writer.Open(dir + "/" + shard_name(s)));
    for (const std::string& name : writer.tensor_order()) {
      DSI_RETURN_IF_ERROR(WriteTensor(*by_name.at(name), config, options.seed, writer));
    }
    DSI_RETURN_IF_ERROR(writer.Commit());
    summary.bytes += writer.file_size();
  }
  // A stale index from an earlier, sharded run would make readers look for the old shards.
  std::filesystem::remove(dir + "/model.safetensors.index.json", ec);
  if (n_shards > 1) {
    uint64_t total = 0;
    for (const HfTensor& t : tensors) total += t.bytes();
    const nlohmann::json index = {{"metadata", {{"total_size", total}}},
                                  {"weight_map", weight_map}};
    DSI_RETURN_IF_ERROR(WriteTextFile(dir + "/model.safetensors.index.json", index.dump(2) + "\n"));
  }
  DSI_RETURN_IF_ERROR(WriteTextFile(dir + "/config.json", config_json));
  return summary;
}

}  // namespace dsinfer
