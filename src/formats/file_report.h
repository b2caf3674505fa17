// Reports on model files for `dsinfer inspect`: one JSON document per file or directory
// (the --json output, stable keys for machines), and a text rendering of that document for
// people. Building the text from the JSON keeps the two views from drifting apart.
//
// Document shape (both formats):
//   {"format": "gguf"|"hf"|"safetensors", "path", "architecture", "hyperparameters": {...},
//    GGUF only: "file_type" (llama-quantize's name of general.file_type, "Q4_K_M", if known),
//    "metadata": [...], "tensors": [{"name","dtype","shape","bytes",...}],
//    "totals": {"tensors","bytes","parameters","by_dtype": {dtype: {"tensors","bytes"}}}}
// "shape" is outermost-first (PyTorch order) for every format; GGUF tensors also carry "ne"
// (ggml order, as llama.cpp prints them).
#ifndef DSINFER_FORMATS_FILE_REPORT_H_
#define DSINFER_FORMATS_FILE_REPORT_H_

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "formats/gguf_file.h"

namespace dsinfer {

// Arrays in metadata are cut to this many items in reports (tokenizer vocabularies are 100k+).
inline constexpr size_t kReportMaxArrayItems = 16;

nlohmann::json GgufReport(const GgufFile& file);

// {"tensors", "bytes", "parameters", "by_dtype"} of a report's tensor list (each entry with
// "dtype", "bytes" and "parameters").
nlohmann::json ReportTotals(const nlohmann::json& tensors);

std::string RenderReportText(const nlohmann::json& report);

// "36.8 MiB", "1.23 B": human units for totals.
std::string HumanBytes(uint64_t bytes);
std::string HumanCount(uint64_t count);

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_FILE_REPORT_H_
