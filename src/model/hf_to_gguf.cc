#include "model/hf_to_gguf.h"

#include <algorithm>
#include <filesystem>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "formats/gguf_names.h"
#include "formats/gguf_writer.h"
#include "model/gguf_metadata.h"
#include "platform/atomic_file_writer.h"

namespace dsinfer {

namespace {

constexpr uint32_t kQuantizationVersion = 2;

// Writing over a shard would destroy what is being read.
Status CheckOutputIsNotAnInput(const SafetensorsModel& model, const std::string& out) {
  std::error_code ec;
  for (const std::string& path : {out, out + ".tmp"}) {
    for (const SafetensorsFile& shard : model.shards()) {  // name(): the path it was opened by
      if (std::filesystem::equivalent(path, shard.name(), ec)) {
        return InvalidArgumentError(fmt::format("{} is an input of the conversion", path));
      }
    }
  }
  return Status::Ok();
}

StatusOr<GgufWriter> HeaderFor(const ModelConfig& config, const HfConvertOptions& options,
                               const TensorTypePolicy& policy) {
  GgufWriter writer;
  std::unordered_set<std::string> given;
  for (const GgufKeyValue& kv : options.metadata) given.insert(kv.key);
  const auto add = [&](std::string key, GgufValue value) -> Status {
    if (given.contains(key)) return Status::Ok();
    return writer.AddKeyValue(std::move(key), std::move(value));
  };
  DSI_RETURN_IF_ERROR(add(std::string(gguf::kKeyArchitecture),
                          GgufValue::String(std::string(ModelArchName(config.arch)))));
  DSI_RETURN_IF_ERROR(add(std::string(gguf::kKeyName), GgufValue::String(options.name)));
  DSI_ASSIGN_OR_RETURN(std::vector<GgufKeyValue> model_keys,
                       GgufMetadataFor(config, options.weights.layout));
  for (GgufKeyValue& kv : model_keys)
    DSI_RETURN_IF_ERROR(add(std::move(kv.key), std::move(kv.value)));
  DSI_RETURN_IF_ERROR(add(std::string(gguf::kKeyFileType), GgufValue::U32(FileTypeOf(policy))));
  DSI_RETURN_IF_ERROR(
      add(std::string(gguf::kKeyQuantizationVersion), GgufValue::U32(kQuantizationVersion)));
  for (const GgufKeyValue& kv : options.metadata) {
    DSI_RETURN_IF_ERROR(writer.AddKeyValue(kv.key, kv.value));
  }
  return writer;
}

}  // namespace

StatusOr<HfConvertSummary> ConvertHfToGguf(const SafetensorsModel& model, const ModelConfig& config,
                                           const HfConvertOptions& options, const std::string& out,
                                           ThreadPool* pool) {
  DSI_ASSIGN_OR_RETURN(const TensorTypePolicy policy, HfTypePolicy(config, options.weights));
  DSI_RETURN_IF_ERROR(CheckOutputIsNotAnInput(model, out));
  DSI_ASSIGN_OR_RETURN(const HfTensorReader reader,
                       HfTensorReader::Create(model, config, options.weights));
  const std::vector<TensorSpec>& layout = reader.layout();
  DSI_ASSIGN_OR_RETURN(GgufWriter writer, HeaderFor(config, options, policy));
  DSI_ASSIGN_OR_RETURN(const std::vector<TensorTypeChoice> choices,
                       ChooseTensorTypes(layout, policy));
  for (size_t i = 0; i < layout.size(); ++i) {
    DSI_RETURN_IF_ERROR(writer.AddTensorInfo(layout[i].gguf_name, choices[i].type, layout[i].ne));
  }

  AtomicFileWriter file(out);
  DSI_RETURN_IF_ERROR(file.Open());
  const std::vector<std::byte> header = writer.SerializeHeader();
  DSI_RETURN_IF_ERROR(file.Write(header.data(), header.size()));
  HfConvertSummary summary;
  std::vector<std::byte> chunk;
  for (size_t i = 0; i < layout.size(); ++i) {
    const TensorSpec& spec = layout[i];
    const DType type = choices[i].type;
    DSI_ASSIGN_OR_RETURN(const int64_t row_bytes, RowBytes(type, spec.ne[0]));
    const int64_t rows = spec.rows();
    const int64_t chunk_rows = HfChunkRows(spec.ne[0]);
    const uint64_t start = file.written();
    for (int64_t r = 0; r < rows; r += chunk_rows) {
      const int64_t end = std::min(rows, r + chunk_rows);
      chunk.resize(static_cast<size_t>((end - r) * row_bytes));
      DSI_RETURN_IF_ERROR(ConvertHfRows(reader, i, type, r, end, chunk, pool));
      DSI_RETURN_IF_ERROR(file.Write(chunk.data(), chunk.size()));
    }
    const uint64_t size = file.written() - start;
    DSI_RETURN_IF_ERROR(file.Zeros(static_cast<size_t>(
        (writer.alignment() - size % writer.alignment()) % writer.alignment())));

    HfConvertedTensor done{.index = i,
                           .count = layout.size(),
                           .name = spec.gguf_name,
                           .ne = spec.ne,
                           .choice = choices[i],
                           .bytes_out = size};
    for (const HfTensorReader::Stored& s : reader.sources(i)) {
      done.from = s.tensor->dtype;
      done.bytes_in += s.tensor->view.bytes.size() + (s.scale ? s.scale->view.bytes.size() : 0);
    }
    ++summary.tensors;
    summary.fell_back += choices[i].weight_matrix && choices[i].fell_back() ? 1 : 0;
    summary.parameters += spec.num_elements();
    summary.tensor_bytes_in += done.bytes_in;
    summary.tensor_bytes_out += size;
    if (options.on_tensor) options.on_tensor(done);
  }
  const uint64_t expected = header.size() + writer.DataSectionSize();
  if (file.written() != expected) {
    return InternalError(
        fmt::format("{}: wrote {} bytes, the header promises {}", out, file.written(), expected));
  }
  DSI_RETURN_IF_ERROR(file.Commit());
  summary.file_bytes = expected;
  return summary;
}

}  // namespace dsinfer
