#include "platform/mapped_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
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
