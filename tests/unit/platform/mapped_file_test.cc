#include "platform/mapped_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <span>
#include <string>

#include "platform/read_file.h"

namespace dsinfer {
namespace {

std::string WriteTemp(const std::string& name, const std::string& contents) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

TEST(MappedFileTest, MapsContentsReadOnly) {
  const std::string path = WriteTemp("mapped.bin", "hello, mapping");
  StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const auto bytes = (*file)->bytes();
  ASSERT_EQ(bytes.size(), 14u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
            "hello, mapping");
  (*file)->Advise(AccessHint::kWillNeed);
  (*file)->Advise(AccessHint::kRandom, 5, 1000);  // clipped to the file
}

TEST(MappedFileTest, EmptyFileMapsToEmptySpan) {
  const std::string path = WriteTemp("empty.bin", "");
  StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->size(), 0u);
  EXPECT_TRUE((*file)->bytes().empty());
}

TEST(MappedFileTest, ErrorsNameThePath) {
  StatusOr<std::shared_ptr<const MappedFile>> missing = MappedFile::Open("/no/such/file");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/no/such/file"), std::string_view::npos);
  StatusOr<std::shared_ptr<const MappedFile>> dir = MappedFile::Open(::testing::TempDir());
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("not a regular file"), std::string_view::npos);
}

// How many pages of `bytes` have a page-table entry now (/proc/self/pagemap bit 63, readable
// without privileges); -1 if pagemap cannot be read.
uintptr_t PageOf(const std::byte* p) {
  return reinterpret_cast<uintptr_t>(p) / static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
}

int64_t PresentPages(std::span<const std::byte> bytes) {
  const int fd = ::open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0) return -1;
  const uintptr_t first = PageOf(bytes.data());
  const uintptr_t last = PageOf(bytes.data() + bytes.size() - 1);
  int64_t present = 0;
  for (uintptr_t page = first; page <= last; ++page) {
    uint64_t entry = 0;
    if (::pread(fd, &entry, sizeof entry, static_cast<off_t>(page * sizeof entry)) !=
        sizeof entry) {
      ::close(fd);
      return -1;
    }
    present += static_cast<int64_t>(entry >> 63);
  }
  ::close(fd);
  return present;
}

TEST(MappedFileTest, PrefaultMapsInEveryPageOfTheRange) {
  constexpr size_t kBytes = size_t{8} << 20;
  const std::string path = WriteTemp("prefault.bin", std::string(kBytes, 'x'));
  StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok());
  // An unaligned range inside the file, as a tensor in a GGUF file is.
  const std::span<const std::byte> range = (*file)->bytes().subspan(1000, kBytes - 9000);
  const auto pages =
      static_cast<int64_t>(PageOf(range.data() + range.size() - 1) - PageOf(range.data()) + 1);
  const int64_t before = PresentPages(range);
  if (before < 0) GTEST_SKIP() << "/proc/self/pagemap is not readable here";
  EXPECT_EQ(before, 0) << "a fresh mapping that nothing has read";
  PrefaultForRead(range);
  PrefaultForRead({});  // empty: nothing to do
  EXPECT_EQ(PresentPages(range), pages);
}

TEST(ReadFileTest, ReadsWholeFileUnderTheCap) {
  const std::string path = WriteTemp("config.json", "{\"a\": 1}");
  EXPECT_EQ(*ReadFileToString(path), "{\"a\": 1}");
  const StatusOr<std::string> capped = ReadFileToString(path, 4);
  ASSERT_FALSE(capped.ok());
  EXPECT_NE(capped.status().message().find("4 byte limit"), std::string_view::npos);
  EXPECT_EQ(ReadFileToString("/no/such/config.json").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(FileExists(path));
  EXPECT_FALSE(FileExists(::testing::TempDir()));
  EXPECT_TRUE(IsDirectory(::testing::TempDir()));
}

}  // namespace
}  // namespace dsinfer
