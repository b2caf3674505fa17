// AtomicFileWriter: writes a file under "<path>.tmp" and renames it into place only when
// Commit() succeeds, so a crash, a full disk or an error half way never leaves a torn file
// under `path` (readers map model files; they must be replaced by rename, mapped_file.h).
// Destroying an uncommitted writer removes the temporary file.
//
// Writes go through a 1 MiB stdio buffer; written() counts every byte handed to Write/Zeros.
//
// Thread safety: none; one writer per thread.
#ifndef DSINFER_PLATFORM_ATOMIC_FILE_WRITER_H_
#define DSINFER_PLATFORM_ATOMIC_FILE_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "base/status.h"

namespace dsinfer {

class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Creates (or truncates) "<path>.tmp".
  Status Open();
  Status Write(const void* data, size_t n);
  Status Zeros(size_t n);
  // Flushes, fsyncs and renames "<path>.tmp" to `path`.
  Status Commit();

  uint64_t written() const { return written_; }
  const std::string& tmp_path() const { return tmp_; }

 private:
  Status Error(std::string_view what) const;

  std::string path_;
  std::string tmp_;
  FILE* file_ = nullptr;
  uint64_t written_ = 0;
  bool committed_ = false;
};

}  // namespace dsinfer

#endif  // DSINFER_PLATFORM_ATOMIC_FILE_WRITER_H_
