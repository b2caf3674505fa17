#include "platform/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

namespace dsinfer {
namespace {

Status ErrnoError(const std::string& path, const char* what, int err) {
  std::string message = fmt::format("{}: {}: {}", path, what, std::strerror(err));
  if (err == ENOENT) return NotFoundError(std::move(message));
  if (err == EACCES || err == EPERM) return PermissionDeniedError(std::move(message));
  return FailedPreconditionError(std::move(message));
}

int ToMadvise(AccessHint hint) {
  switch (hint) {
    case AccessHint::kNormal: return MADV_NORMAL;
    case AccessHint::kSequential: return MADV_SEQUENTIAL;
    case AccessHint::kRandom: return MADV_RANDOM;
    case AccessHint::kWillNeed: return MADV_WILLNEED;
    case AccessHint::kDontNeed: return MADV_DONTNEED;
  }
  return MADV_NORMAL;
}

}  // namespace

StatusOr<std::shared_ptr<const MappedFile>> MappedFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(path, "cannot open", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoError(path, "cannot stat", err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return FailedPreconditionError(fmt::format("{}: not a regular file", path));
  }
  const auto size = static_cast<size_t>(st.st_size);
  const std::byte* data = nullptr;
  if (size > 0) {
    void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return ErrnoError(path, "cannot mmap", err);
    }
    data = static_cast<const std::byte*>(addr);
  }
  ::close(fd);  // the mapping keeps the file alive
  return std::shared_ptr<const MappedFile>(new MappedFile(path, data, size));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

void MappedFile::Advise(AccessHint hint, size_t offset, size_t length) const {
  if (data_ == nullptr || offset >= size_) return;
  length = std::min(length, size_ - offset);
  // madvise needs a page-aligned start.
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t aligned = offset / page * page;
  ::madvise(const_cast<std::byte*>(data_) + aligned, length + (offset - aligned), ToMadvise(hint));
}

void PrefaultForRead(std::span<const std::byte> bytes) {
  if (bytes.empty()) return;
  // madvise needs a page-aligned start: step back to the page's first byte.
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const size_t into_page = reinterpret_cast<uintptr_t>(bytes.data()) % page;
  void* start = const_cast<std::byte*>(bytes.data() - into_page);
  if (::madvise(start, bytes.size() + into_page, MADV_POPULATE_READ) == 0) return;
  // Older kernels: a read per page. The volatile sink keeps the loads.
  volatile std::byte sink = bytes[0];
  for (size_t at = page - into_page; at < bytes.size(); at += page) sink = bytes[at];
  (void)sink;
}

}  // namespace dsinfer
