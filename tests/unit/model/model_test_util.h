// Helpers shared by the model tests: temporary files, and how far one row of floats is from
// another.
#ifndef DSINFER_TESTS_UNIT_MODEL_MODEL_TEST_UTIL_H_
#define DSINFER_TESTS_UNIT_MODEL_MODEL_TEST_UTIL_H_

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

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

// gtest's name for a test of a model preset: "tiny-v2-lite" -> "tiny_v2_lite".
inline std::string PresetTestName(const ::testing::TestParamInfo<const char*>& info) {
  std::string name = info.param;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

// max |got - want| over a row, relative to want's largest magnitude.
inline double RelativeDiff(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0, scale = 1e-30;
  for (size_t i = 0; i < got.size(); ++i) {
    diff = std::max(diff, std::fabs(double{got[i]} - want[i]));
    scale = std::max(scale, std::fabs(double{want[i]}));
  }
  return diff / scale;
}

}  // namespace dsinfer::testing

#endif  // DSINFER_TESTS_UNIT_MODEL_MODEL_TEST_UTIL_H_
