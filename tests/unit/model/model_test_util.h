// Helpers shared by the model tests: temporary files and GGUF files made from a config.
#ifndef DSINFER_TESTS_UNIT_MODEL_MODEL_TEST_UTIL_H_
#define DSINFER_TESTS_UNIT_MODEL_MODEL_TEST_UTIL_H_

#include <unistd.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace dsinfer::testing {

// A file path under the test temp dir, removed when the object goes.
class TempPath {
 public:
  explicit TempPath(const std::string& name)
      : path_(::testing::TempDir() + "/" + std::to_string(::getpid()) + "_" + name) {}
  ~TempPath() { std::remove(path_.c_str()); }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace dsinfer::testing

#endif  // DSINFER_TESTS_UNIT_MODEL_MODEL_TEST_UTIL_H_
