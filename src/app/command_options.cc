#include "app/command_options.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

namespace dsinfer {

int ThreadCount(int requested) {
  if (requested > 0) return requested;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

StatusOr<DType> TypeOption(const char* flag, const std::string& name) {
  const std::optional<DType> dtype = DTypeFromName(name);
  if (!dtype.has_value()) {
    return InvalidArgumentError(fmt::format("{} {} is not a type name", flag, name));
  }
  return *dtype;
}

StatusOr<TypeRequest> HfTypeOption(const std::string& name) {
  StatusOr<TypeRequest> type = ParseTypeRequest(name);
  if (!type.ok()) return type.status().WithContext("--hf-type");
  return type;
}

std::string HfTypeHelp() {
  return "type an HF checkpoint's matrices are converted to at load (default q8_0): " +
         TypeRequestNames();
}

}  // namespace dsinfer
