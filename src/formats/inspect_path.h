// InspectPath: the report of file_report.h for whatever a user points `dsinfer inspect` at.
#ifndef DSINFER_FORMATS_INSPECT_PATH_H_
#define DSINFER_FORMATS_INSPECT_PATH_H_

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace dsinfer {

// `path` is a GGUF file (by extension or magic), a .safetensors file, or an HF checkpoint
// directory (config.json + safetensors shards). Reads headers only.
StatusOr<nlohmann::json> InspectPath(const std::string& path);

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_INSPECT_PATH_H_
