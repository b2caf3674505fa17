// Option values that several subcommands parse the same way.
#ifndef DSINFER_APP_COMMAND_OPTIONS_H_
#define DSINFER_APP_COMMAND_OPTIONS_H_

#include <optional>
#include <string>

#include "base/status.h"
#include "model/quant_mixture.h"
#include "tensor/dtype.h"

namespace dsinfer {

// --threads N: N when positive, else every core the machine reports (at least 1).
int ThreadCount(int requested);

// A type-name option (--kv-type, --hf-type): InvalidArgument "<flag> <name> is not a type
// name" when `name` names no dtype.
StatusOr<DType> TypeOption(const char* flag, const std::string& name);

// What `dsinfer quantize` and `convert` write: a weight type (q4_k) or one of llama.cpp's
// mixtures (Q4_K_M: `type` is its base type). Errors list both kinds of names.
struct WeightTypeOption {
  DType type = DType::kF32;
  std::optional<QuantMixture> mixture;

  std::string Name() const;  // "q4_K", or the mixture's "Q4_K_M"
};
StatusOr<WeightTypeOption> ParseWeightTypeOption(const std::string& name);
// The help text's list: "f32, f16, ..., iq4_xs, or a mixture: Q3_K_S, ..., Q5_K_M".
std::string WeightTypeOptionNames();

}  // namespace dsinfer

#endif  // DSINFER_APP_COMMAND_OPTIONS_H_
