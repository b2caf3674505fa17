#include "formats/file_report.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "base/utf8.h"
#include "formats/gguf_json.h"
#include "formats/gguf_names.h"
#include "formats/llama_file_type.h"

namespace dsinfer {

using nlohmann::json;

json ReportTotals(const json& tensors) {
  uint64_t bytes = 0, params = 0;
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_dtype;  // dtype -> (tensors, bytes)
  for (const auto& t : tensors) {
    const auto b = t.at("bytes").get<uint64_t>();
    bytes += b;
    params += t.at("parameters").get<uint64_t>();
    auto& entry = by_dtype[t.at("dtype").get<std::string>()];
    entry.first += 1;
    entry.second += b;
  }
  json out = {{"tensors", tensors.size()}, {"bytes", bytes}, {"parameters", params}};
  json dtypes = json::object();
  for (const auto& [dtype, counts] : by_dtype) {
    dtypes[dtype] = {{"tensors", counts.first}, {"bytes", counts.second}};
  }
  out["by_dtype"] = std::move(dtypes);
  return out;
}

namespace {

// Names and keys come from the file: control characters (a terminal escape sequence in a
// tensor name) are shown as \xNN, never sent to the terminal.
std::string TextSafe(const std::string& text) { return EscapeForMessage(text, 4096); }

std::string Scalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string ShapeText(const json& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + shape[i].dump();
  return out + "]";
}

}  // namespace

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 5) {
    v /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.2f} {}", v, kUnits[unit]);
}

std::string HumanCount(uint64_t count) {
  static constexpr const char* kUnits[] = {"", " K", " M", " B", " T"};
  double v = static_cast<double>(count);
  int unit = 0;
  while (v >= 1000 && unit < 4) {
    v /= 1000;
    ++unit;
  }
  return unit == 0 ? fmt::format("{}", count) : fmt::format("{:.2f}{}", v, kUnits[unit]);
}

json GgufReport(const GgufFile& file) {
  json report;
  report["format"] = "gguf";
  report["path"] = file.name();
  report["version"] = file.version();
  report["file_size"] = file.file_size();
  report["alignment"] = file.alignment();
  report["data_offset"] = file.data_offset();
  const std::string arch(file.architecture());
  report["architecture"] = arch;
  if (auto name = file.GetString("general.name")) report["name"] = *name;
  if (const std::optional<uint64_t> type = file.GetUint(gguf::kKeyFileType)) {
    // llama-quantize's name for it, when llama.cpp defines one ("Q4_K_M").
    if (const auto name = LlamaFileTypeName(*type)) report["file_type"] = std::string(*name);
  }

  // The architecture's own keys ("deepseek2.attention.kv_lora_rank") are its hyper-parameters.
  json hparams = json::object();
  json metadata = json::array();
  const std::string prefix = arch + ".";
  for (const auto& kv : file.metadata()) {
    json entry = {{"key", kv.key}, {"type", GgufTypeName(kv.value.type())}};
    if (const GgufArray* array = kv.value.AsArray()) {
      entry["element_type"] = GgufTypeName(array->element_type);
      entry["length"] = array->items.size();
    }
    entry["value"] = GgufValueToJson(kv.value, kReportMaxArrayItems);
    if (!arch.empty() && kv.key.rfind(prefix, 0) == 0 && !kv.value.AsArray()) {
      hparams[kv.key.substr(prefix.size())] = entry["value"];
    }
    metadata.push_back(std::move(entry));
  }
  report["hyperparameters"] = std::move(hparams);
  report["metadata"] = std::move(metadata);

  json tensors = json::array();
  for (const auto& t : file.tensors()) {
    tensors.push_back(
        {{"name", t.name},
         {"dtype", DTypeName(t.dtype)},
         {"shape", std::vector<int64_t>(t.view.shape.dims().begin(), t.view.shape.dims().end())},
         {"ne", std::vector<int64_t>(t.dims().begin(), t.dims().end())},
         {"offset", t.offset},
         {"bytes", t.n_bytes},
         {"parameters", t.num_elements()}});
  }
  report["totals"] = ReportTotals(tensors);
  report["tensors"] = std::move(tensors);
  return report;
}

std::string RenderReportText(const json& r) {
  std::string out;
  const std::string format = r.value("format", "");
  if (format == "gguf") {
    out += fmt::format("file:          {} (GGUF v{}, {}, alignment {}, data at byte {})\n",
                       Scalar(r.at("path")), r.at("version").get<int>(),
                       HumanBytes(r.at("file_size").get<uint64_t>()),
                       r.at("alignment").get<uint64_t>(), r.at("data_offset").get<uint64_t>());
  } else {
    out += fmt::format("path:          {} ({})\n", Scalar(r.at("path")),
                       format == "hf" ? "Hugging Face checkpoint" : "safetensors file");
  }
  out += fmt::format("architecture:  {}\n",
                     r.value("architecture", "").empty() ? "(none)" : Scalar(r.at("architecture")));
  if (r.contains("name")) out += fmt::format("name:          {}\n", Scalar(r.at("name")));
  if (r.contains("file_type")) {
    out += fmt::format("file type:     {}\n", r.at("file_type").get<std::string>());
  }
  if (r.contains("shards")) {
    out += fmt::format("shards:        {}\n", r.at("shards").size());
  }

  const json& hparams = r.at("hyperparameters");
  if (!hparams.empty()) {
    out += "\nhyper-parameters:\n";
    size_t width = 0;
    for (const auto& [k, v] : hparams.items()) width = std::max(width, k.size());
    for (const auto& [k, v] : hparams.items()) {
      out += fmt::format("  {:<{}}  {}\n", k, width, v.is_null() ? "null" : Scalar(v));
    }
  }

  if (r.contains("metadata") && !r.at("metadata").empty()) {
    out += fmt::format("\nmetadata ({} keys):\n", r.at("metadata").size());
    size_t width = 0;
    for (const auto& m : r.at("metadata")) {
      width = std::max(width, TextSafe(m.at("key").get<std::string>()).size());
    }
    for (const auto& m : r.at("metadata")) {
      std::string type = m.at("type").get<std::string>();
      std::string value = m.at("value").dump(-1, ' ', false, json::error_handler_t::replace);
      if (m.contains("element_type")) {
        type = fmt::format("[{} x {}]", m.at("element_type").get<std::string>(),
                           m.at("length").get<uint64_t>());
        if (m.at("length").get<uint64_t>() > kReportMaxArrayItems)
          value.insert(value.size() - 1, ", ...");
      }
      if (value.size() > 160) value = value.substr(0, 157) + "...";
      out += fmt::format("  {:<{}}  {:<20}  {}\n", TextSafe(m.at("key").get<std::string>()), width,
                         type, value);
    }
  }

  const json& tensors = r.at("tensors");
  out += fmt::format("\ntensors ({}):\n", tensors.size());
  size_t name_w = 4, shape_w = 5;
  for (const auto& t : tensors) {
    name_w = std::max(name_w, TextSafe(t.at("name").get<std::string>()).size());
    shape_w = std::max(shape_w, ShapeText(t.at("shape")).size());
  }
  out += fmt::format("  {:<{}}  {:<8}  {:<{}}  {:>14}\n", "name", name_w, "dtype", "shape", shape_w,
                     "bytes");
  for (const auto& t : tensors) {
    out +=
        fmt::format("  {:<{}}  {:<8}  {:<{}}  {:>14}\n", TextSafe(t.at("name").get<std::string>()),
                    name_w, t.at("dtype").get<std::string>(), ShapeText(t.at("shape")), shape_w,
                    t.at("bytes").get<uint64_t>());
  }

  const json& totals = r.at("totals");
  out += fmt::format(
      "\ntotals: {} tensors, {} ({} bytes), {} parameters ({})\n",
      totals.at("tensors").get<uint64_t>(), HumanBytes(totals.at("bytes").get<uint64_t>()),
      totals.at("bytes").get<uint64_t>(), HumanCount(totals.at("parameters").get<uint64_t>()),
      totals.at("parameters").get<uint64_t>());
  for (const auto& [dtype, c] : totals.at("by_dtype").items()) {
    out += fmt::format("  {:<8}  {:>6} tensors  {:>12}\n", dtype, c.at("tensors").get<uint64_t>(),
                       HumanBytes(c.at("bytes").get<uint64_t>()));
  }
  return out;
}

}  // namespace dsinfer
