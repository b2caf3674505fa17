// MappedFile: a whole file mapped read-only into memory.
//
// Model files are tens to hundreds of GiB; mapping them costs address space, not RAM, and
// lets the page cache share weights between processes. Opening is O(1) in the file size.
// Views into a mapping stay valid as long as the MappedFile (shared by owners) lives.
//
// A file truncated by someone else while mapped makes reads past the new end raise SIGBUS;
// model files must be replaced by rename (as GgufWriter::WriteFile does), never rewritten
// in place.
//
// Thread safety: immutable after Open(); Advise() may be called from any thread.
#ifndef DSINFER_PLATFORM_MAPPED_FILE_H_
#define DSINFER_PLATFORM_MAPPED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/status.h"

namespace dsinfer {

enum class AccessHint {
  kNormal,
  kSequential,  // read front to back once (conversion, checksums)
  kRandom,      // scattered reads (MoE experts chosen per token)
  kWillNeed,    // start reading ahead now (weights about to be used)
  kDontNeed,    // drop cached pages of this range
};

class MappedFile {
 public:
  // Maps `path` read-only. A missing file is NotFound, other failures name errno.
  static StatusOr<std::shared_ptr<const MappedFile>> Open(const std::string& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  size_t size() const { return size_; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }

  // madvise over [offset, offset + length) clipped to the file; advice only, never fails.
  void Advise(AccessHint hint, size_t offset = 0, size_t length = SIZE_MAX) const;

 private:
  MappedFile(std::string path, const std::byte* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}

  std::string path_;
  const std::byte* data_ = nullptr;  // nullptr for an empty file
  size_t size_ = 0;
};

// Maps in every page of `bytes` (part of a mapping) now, reading from disk what the page cache
// lacks, so that the first reads of it take no page faults: weights read in place would
// otherwise fault on a model's first request (MADV_POPULATE_READ; on kernels before 5.14,
// which lack it, one read per page). Advice only, never fails; a no-op on an empty span.
void PrefaultForRead(std::span<const std::byte> bytes);

}  // namespace dsinfer

#endif  // DSINFER_PLATFORM_MAPPED_FILE_H_
