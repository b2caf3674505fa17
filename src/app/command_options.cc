#include "app/command_options.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "model/tensor_type_rules.h"

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

std::string WeightTypeOption::Name() const {
  return std::string(mixture ? GetQuantMixtureInfo(*mixture).name : DTypeName(type));
}

StatusOr<WeightTypeOption> ParseWeightTypeOption(const std::string& name) {
  if (const std::optional<QuantMixture> mixture = QuantMixtureFromName(name)) {
    return WeightTypeOption{.type = GetQuantMixtureInfo(*mixture).base, .mixture = mixture};
  }
  const std::optional<DType> type = DTypeFromName(name);
  if (!type) {
    return InvalidArgumentError(
        fmt::format("'{}' is not a type; weight types: {}", name, WeightTypeOptionNames()));
  }
  DSI_RETURN_IF_ERROR(CheckWeightType(*type));
  return WeightTypeOption{.type = *type};
}

std::string WeightTypeOptionNames() {
  return fmt::format("{}, or a mixture: {}", WeightTypeNames(), QuantMixtureNames());
}

}  // namespace dsinfer
