#include "platform/atomic_file_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace dsinfer {

AtomicFileWriter::AtomicFileWriter(std::string path)
    : path_(std::move(path)), tmp_(path_ + ".tmp") {}

AtomicFileWriter::~AtomicFileWriter() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) std::remove(tmp_.c_str());
}

Status AtomicFileWriter::Open() {
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (file_ == nullptr) return Error("cannot create");
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
  return Status::Ok();
}

Status AtomicFileWriter::Write(const void* data, size_t n) {
  if (n != 0 && std::fwrite(data, 1, n, file_) != n) return Error("write failed");
  written_ += n;
  return Status::Ok();
}

Status AtomicFileWriter::Zeros(size_t n) {
  static constexpr std::byte kZeros[64] = {};
  while (n > 0) {
    const size_t k = std::min(n, sizeof(kZeros));
    DSI_RETURN_IF_ERROR(Write(kZeros, k));
    n -= k;
  }
  return Status::Ok();
}

Status AtomicFileWriter::Commit() {
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) return Error("write failed");
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) return Error("close failed");
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) return Error("cannot rename into place");
  committed_ = true;
  return Status::Ok();
}

Status AtomicFileWriter::Error(std::string_view what) const {
  return DataLossError(fmt::format("{}: {}: {}", tmp_, what, std::strerror(errno)));
}

}  // namespace dsinfer
