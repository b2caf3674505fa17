#include "platform/read_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace dsinfer {

StatusOr<std::string> ReadFileToString(const std::string& path, size_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    std::string message = fmt::format("{}: cannot open: {}", path, std::strerror(err));
    return err == ENOENT ? NotFoundError(std::move(message))
                         : FailedPreconditionError(std::move(message));
  }
  if (!S_ISREG(st.st_mode))
    return FailedPreconditionError(fmt::format("{}: not a regular file", path));
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return InvalidArgumentError(
        fmt::format("{}: {} bytes is larger than the {} byte limit for this file", path, st.st_size,
                    max_bytes));
  }
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file)
    return FailedPreconditionError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::string contents(static_cast<size_t>(st.st_size), '\0');
  const size_t got = std::fread(contents.data(), 1, contents.size(), file.get());
  if (got != contents.size()) {
    return DataLossError(fmt::format("{}: read {} of {} bytes", path, got, contents.size()));
  }
  return contents;
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace dsinfer
