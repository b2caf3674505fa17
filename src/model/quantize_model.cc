#include "model/quantize_model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "formats/gguf_file.h"
#include "formats/gguf_names.h"
#include "formats/gguf_writer.h"
#include "platform/atomic_file_writer.h"
#include "platform/mapped_file.h"
#include "quant/quant_ops.h"

namespace dsinfer {

namespace {

constexpr int64_t kChunkElements = 1 << 22;   // 16 MiB of floats converted at a time
constexpr size_t kCopyChunkBytes = 64 << 20;  // unchanged tensors are copied this much at a time
constexpr uint32_t kQuantizationVersion = 2;  // GGML_QNT_VERSION

// What happens to one input tensor, decided before anything is written.
struct TensorPlan {
  const GgufTensorInfo* info = nullptr;
  TensorTypeChoice choice;
  DType to = DType::kF32;
  bool convert = false;
};

// ggml_n_dims: trailing dimensions of 1 do not count, so a {4096, 1} tensor is 1-D.
std::vector<int64_t> EffectiveDims(const GgufTensorInfo& t) {
  int n = t.n_dims;
  while (n > 1 && t.ne[static_cast<size_t>(n - 1)] == 1) --n;
  return {t.ne.begin(), t.ne.begin() + std::max(n, 1)};
}

Status CheckPaths(const std::string& in, const std::string& out) {
  if (out.empty()) return InvalidArgumentError("no output path");
  std::error_code ec;  // a path that does not exist is simply not the input
  if (std::filesystem::equivalent(in, out, ec)) {
    return InvalidArgumentError(fmt::format(
        "output {} is the input file; write to another path (the input is read while the "
        "output is written)",
        out));
  }
  if (std::filesystem::equivalent(in, out + ".tmp", ec)) {
    return InvalidArgumentError(fmt::format(
        "output {} would be written through {}.tmp, which is the input file", out, out));
  }
  return Status::Ok();
}

StatusOr<std::vector<TensorPlan>> PlanTensors(const GgufFile& file,
                                              const TensorTypePolicy& policy) {
  std::vector<TensorSpec> specs;
  specs.reserve(file.tensors().size());
  for (const GgufTensorInfo& t : file.tensors()) {
    specs.push_back(
        {.gguf_name = t.name, .ne = EffectiveDims(t), .role = TensorRoleFromGgufName(t.name)});
  }
  DSI_ASSIGN_OR_RETURN(const std::vector<TensorTypeChoice> choices,
                       ChooseTensorTypes(specs, policy));
  std::vector<TensorPlan> plans;
  plans.reserve(file.tensors().size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const GgufTensorInfo& t = file.tensors()[i];
    TensorPlan plan{.info = &t, .choice = choices[i]};
    plan.to = plan.choice.weight_matrix ? plan.choice.type : t.dtype;
    plan.convert = plan.to != t.dtype;
    if (plan.convert) {
      const QuantOps* ops = FindQuantOps(t.dtype);
      if (ops == nullptr || ops->dequantize == nullptr) {
        return UnimplementedError(
            fmt::format("tensor {}: cannot convert from {} to {}: dsinfer cannot read {} weights",
                        t.name, DTypeName(t.dtype), DTypeName(plan.to), DTypeName(t.dtype)));
      }
      if (t.ne[0] <= 0) {
        return DataLossError(fmt::format("tensor {}: rows of {} elements", t.name, t.ne[0]));
      }
    }
    plans.push_back(plan);
  }
  return plans;
}

// The output header: the input's keys in order with file_type and quantization_version set,
// then every tensor with its new type.
StatusOr<GgufWriter> BuildHeader(const GgufFile& file, const std::vector<TensorPlan>& plans,
                                 const TensorTypePolicy& policy) {
  GgufWriter writer;
  const GgufValue file_type = GgufValue::U32(FileTypeOf(policy));
  const GgufValue quantization_version = GgufValue::U32(kQuantizationVersion);
  bool have_file_type = false;
  bool have_quantization_version = false;
  for (const GgufKeyValue& kv : file.metadata()) {
    if (kv.key == gguf::kKeyFileType) {
      have_file_type = true;
      DSI_RETURN_IF_ERROR(writer.AddKeyValue(kv.key, file_type));
    } else if (kv.key == gguf::kKeyQuantizationVersion) {
      have_quantization_version = true;
      DSI_RETURN_IF_ERROR(writer.AddKeyValue(kv.key, quantization_version));
    } else {
      DSI_RETURN_IF_ERROR(writer.AddKeyValue(kv.key, kv.value));
    }
  }
  if (!have_file_type) {
    DSI_RETURN_IF_ERROR(writer.AddKeyValue(std::string(gguf::kKeyFileType), file_type));
  }
  if (!have_quantization_version) {
    DSI_RETURN_IF_ERROR(
        writer.AddKeyValue(std::string(gguf::kKeyQuantizationVersion), quantization_version));
  }
  for (const TensorPlan& plan : plans) {
    DSI_RETURN_IF_ERROR(writer.AddTensorInfo(plan.info->name, plan.to, plan.info->dims()));
  }
  return writer;
}

// The mapped input, read once front to back: pages already converted are dropped so that
// the resident set stays at a chunk or two whatever the model size (the page cache may keep
// them; that memory is reclaimable).
class InputPages {
 public:
  InputPages(const MappedFile& mapped, uint64_t data_offset)
      : mapped_(mapped), data_offset_(data_offset) {}
  void Drop(const GgufTensorInfo& t, uint64_t offset, uint64_t n) const {
    mapped_.Advise(AccessHint::kDontNeed, data_offset_ + t.offset + offset, n);
  }

 private:
  const MappedFile& mapped_;
  uint64_t data_offset_;
};

// Rows [0, n) of one chunk, split over the pool: each thread dequantises its rows to f32,
// checks they are finite and quantises them.
class ChunkConverter {
 public:
  ChunkConverter(DType from, DType to, int64_t ne0, ThreadPool* pool)
      : from_(from), to_(to), ne0_(ne0), pool_(pool) {
    const int threads = pool == nullptr ? 1 : pool->num_threads();
    statuses_.resize(static_cast<size_t>(threads));
    bad_rows_.resize(static_cast<size_t>(threads));
  }

  // `src` holds n rows in `from`, `floats` room for n rows, `dst` exactly n rows in `to`.
  // Returns the first row (from 0) holding a NaN or Inf, or -1.
  StatusOr<int64_t> Run(int64_t n, std::span<const std::byte> src, std::span<float> floats,
                        std::span<std::byte> dst) {
    std::fill(statuses_.begin(), statuses_.end(), Status::Ok());
    std::fill(bad_rows_.begin(), bad_rows_.end(), -1);
    const size_t in_row = src.size() / static_cast<size_t>(n);
    const size_t out_row = dst.size() / static_cast<size_t>(n);
    const size_t ne0 = static_cast<size_t>(ne0_);
    const auto body = [&](int64_t begin, int64_t end, int thread) {
      const auto b = static_cast<size_t>(begin);
      const auto rows = static_cast<size_t>(end - begin);
      const std::span<float> f = floats.subspan(b * ne0, rows * ne0);
      Status& status = statuses_[static_cast<size_t>(thread)];
      status = DequantizeRows(from_, src.subspan(b * in_row, rows * in_row), ne0_, f);
      if (!status.ok()) return;
      const auto bad = std::find_if(f.begin(), f.end(), [](float v) { return !std::isfinite(v); });
      if (bad != f.end()) {
        bad_rows_[static_cast<size_t>(thread)] =
            begin + static_cast<int64_t>(static_cast<size_t>(bad - f.begin()) / ne0);
        return;
      }
      status = QuantizeRows(to_, f, ne0_, dst.subspan(b * out_row, rows * out_row));
    };
    if (pool_ == nullptr) {
      body(0, n, 0);
    } else {
      pool_->ParallelFor(n, body);
    }
    for (const Status& s : statuses_) DSI_RETURN_IF_ERROR(s);
    int64_t first_bad = -1;
    for (int64_t row : bad_rows_) {
      if (row >= 0 && (first_bad < 0 || row < first_bad)) first_bad = row;
    }
    return first_bad;
  }

 private:
  DType from_;
  DType to_;
  int64_t ne0_;
  ThreadPool* pool_;
  std::vector<Status> statuses_;   // one per thread
  std::vector<int64_t> bad_rows_;  // one per thread
};

// Writes `t`'s bytes unchanged, dropping the input pages behind it.
Status CopyTensor(const GgufTensorInfo& t, const InputPages& input, AtomicFileWriter& out) {
  for (size_t done = 0; done < t.view.bytes.size(); done += kCopyChunkBytes) {
    const size_t n = std::min(kCopyChunkBytes, t.view.bytes.size() - done);
    DSI_RETURN_IF_ERROR(out.Write(t.view.bytes.data() + done, n));
    input.Drop(t, done, n);
  }
  return Status::Ok();
}

Status ConvertTensor(const GgufTensorInfo& t, DType to, ThreadPool* pool, const InputPages& input,
                     AtomicFileWriter& out) {
  const int64_t ne0 = t.ne[0];
  const int64_t rows = t.num_elements() / ne0;
  if (rows == 0) return Status::Ok();
  DSI_ASSIGN_OR_RETURN(const int64_t in_row, RowBytes(t.dtype, ne0));
  DSI_ASSIGN_OR_RETURN(const int64_t out_row, RowBytes(to, ne0));
  const int64_t rows_per_chunk = std::clamp<int64_t>(kChunkElements / ne0, 1, rows);
  std::vector<float> floats(static_cast<size_t>(rows_per_chunk * ne0));
  std::vector<std::byte> packed(static_cast<size_t>(rows_per_chunk * out_row));
  ChunkConverter converter(t.dtype, to, ne0, pool);
  for (int64_t row = 0; row < rows; row += rows_per_chunk) {
    const int64_t n = std::min(rows_per_chunk, rows - row);
    const std::span<const std::byte> src =
        t.view.bytes.subspan(static_cast<size_t>(row * in_row), static_cast<size_t>(n * in_row));
    const std::span<std::byte> dst(packed.data(), static_cast<size_t>(n * out_row));
    DSI_ASSIGN_OR_RETURN(
        const int64_t bad_row,
        converter.Run(n, src, std::span<float>(floats.data(), static_cast<size_t>(n * ne0)), dst));
    if (bad_row >= 0) {
      return DataLossError(fmt::format(
          "tensor {}: row {} holds a NaN or Inf; refusing to convert it", t.name, row + bad_row));
    }
    DSI_RETURN_IF_ERROR(out.Write(dst.data(), dst.size()));
    input.Drop(t, static_cast<uint64_t>(row * in_row), src.size());
  }
  return Status::Ok();
}

}  // namespace

TensorRole TensorRoleFromGgufName(std::string_view name) {
  if (name == gguf::kTokenEmbd) return TensorRole::kEmbedding;
  if (name == gguf::kOutput) return TensorRole::kOutput;
  if (name == gguf::kRopeFreqs) return TensorRole::kRopeFreqs;
  if (name.find("exp_probs_b") != std::string_view::npos) return TensorRole::kExpertBias;
  if (name.find("ffn_gate_inp.") != std::string_view::npos) return TensorRole::kRouter;
  if (name.find("_norm.weight") != std::string_view::npos) return TensorRole::kNorm;
  if (!name.ends_with("weight")) return TensorRole::kBias;
  return TensorRole::kWeight;
}

StatusOr<QuantizeSummary> QuantizeGguf(const std::string& in, const std::string& out,
                                       const QuantizeOptions& options, ThreadPool* pool) {
  DSI_RETURN_IF_ERROR(CheckPaths(in, out));
  DSI_RETURN_IF_ERROR(CheckWeightType(options.types.requested));
  for (const TensorTypeRule& rule : options.types.rules) {
    DSI_RETURN_IF_ERROR(CheckWeightType(rule.type));
  }
  DSI_ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> mapped, MappedFile::Open(in));
  const std::span<const std::byte> bytes = mapped->bytes();
  DSI_ASSIGN_OR_RETURN(const GgufFile file, GgufFile::Parse(bytes, in, mapped));
  TensorTypePolicy policy = options.types;
  if (policy.mixture) {
    DSI_ASSIGN_OR_RETURN(policy.model, MixtureModelFromMetadata(file.metadata()));
  }
  DSI_ASSIGN_OR_RETURN(const std::vector<TensorPlan> plans, PlanTensors(file, policy));
  DSI_ASSIGN_OR_RETURN(const GgufWriter writer, BuildHeader(file, plans, policy));
  mapped->Advise(AccessHint::kSequential);
  const InputPages input(*mapped, file.data_offset());

  AtomicFileWriter output(out);
  DSI_RETURN_IF_ERROR(output.Open());
  const std::vector<std::byte> header = writer.SerializeHeader();
  DSI_RETURN_IF_ERROR(output.Write(header.data(), header.size()));
  const uint64_t alignment = writer.alignment();
  QuantizeSummary summary;
  for (size_t i = 0; i < plans.size(); ++i) {
    const TensorPlan& plan = plans[i];
    const GgufTensorInfo& t = *plan.info;
    const uint64_t start = output.written();
    if (plan.convert) {
      DSI_RETURN_IF_ERROR(ConvertTensor(t, plan.to, pool, input, output));
    } else {
      DSI_RETURN_IF_ERROR(CopyTensor(t, input, output));
    }
    const uint64_t size = output.written() - start;
    DSI_RETURN_IF_ERROR(
        output.Zeros(static_cast<size_t>((alignment - size % alignment) % alignment)));

    summary.tensors += 1;
    summary.converted += plan.convert ? 1 : 0;
    summary.copied += plan.convert ? 0 : 1;
    summary.fell_back += plan.choice.weight_matrix && plan.choice.fell_back() ? 1 : 0;
    summary.parameters += t.num_elements();
    summary.tensor_bytes_in += t.n_bytes;
    summary.tensor_bytes_out += size;
    if (options.on_tensor) {
      options.on_tensor({.index = i,
                         .count = plans.size(),
                         .name = t.name,
                         .ne = t.dims(),
                         .from = t.dtype,
                         .to = plan.to,
                         .choice = plan.choice,
                         .converted = plan.convert,
                         .bytes_in = t.n_bytes,
                         .bytes_out = size});
    }
  }
  const uint64_t expected = header.size() + writer.DataSectionSize();
  if (output.written() != expected) {
    return InternalError(
        fmt::format("{}: wrote {} bytes, the header promises {}", out, output.written(), expected));
  }
  DSI_RETURN_IF_ERROR(output.Commit());
  summary.file_bytes = expected;
  return summary;
}

}  // namespace dsinfer
