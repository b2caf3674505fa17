// Helpers shared by the HF config and generation config tests: the folder of real config
// fixtures, and a config parsed from text as if read from a file named cfg.json.
#ifndef DSINFER_TESTS_UNIT_FORMATS_HF_CONFIG_TEST_UTIL_H_
#define DSINFER_TESTS_UNIT_FORMATS_HF_CONFIG_TEST_UTIL_H_

#include <string>

#include "base/status.h"
#include "formats/hf_config.h"

namespace dsinfer {

inline std::string HfDir() { return std::string(DSINFER_TEST_DATA_DIR) + "/hf"; }

inline StatusOr<HfConfig> ParseConfigText(const std::string& text) {
  return ParseHfConfig(text, "cfg.json");
}

}  // namespace dsinfer

#endif  // DSINFER_TESTS_UNIT_FORMATS_HF_CONFIG_TEST_UTIL_H_
