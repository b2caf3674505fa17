// Whole-file reads for small files (JSON configs, indexes), with a size cap so a hostile or
// mistaken path (a 500 GB shard named config.json) is an error, not an allocation.
#ifndef DSINFER_PLATFORM_READ_FILE_H_
#define DSINFER_PLATFORM_READ_FILE_H_

#include <cstddef>
#include <string>

#include "base/status.h"

namespace dsinfer {

// NotFound for a missing file; InvalidArgument if it is larger than `max_bytes`.
StatusOr<std::string> ReadFileToString(const std::string& path, size_t max_bytes = 64 << 20);

bool FileExists(const std::string& path);
bool IsDirectory(const std::string& path);

}  // namespace dsinfer

#endif  // DSINFER_PLATFORM_READ_FILE_H_
