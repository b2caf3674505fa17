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

// madvise over the pages that hold `bytes` (non-empty): madvise needs a page-aligned start,
// so the range steps back to its first page's first byte. Returns madvise's result.
int MadvisePages(std::span<const std::byte> bytes, int advice) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const size_t into_page = reinterpret_cast<uintptr_t>(bytes.data()) % page;
  return ::madvise(const_cast<std::byte*>(bytes.data() - into_page), bytes.size() + into_page,
                   advice);
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
  MadvisePages(bytes().subspan(offset, std::min(length, size_ - offset)), ToMadvise(hint));
}

void PrefaultForRead(std::span<const std::byte> bytes) {
  if (bytes.empty() || MadvisePages(bytes, MADV_POPULATE_READ) == 0) return;
  // Older kernels: a read per page. The volatile sink keeps the loads.
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  volatile std::byte sink = bytes[0];
  const size_t next_page = page - reinterpret_cast<uintptr_t>(bytes.data()) % page;
  for (size_t at = next_page; at < bytes.size(); at += page) sink = bytes[at];
  (void)sink;
}

}  // namespace dsinfer
