// Option values that several subcommands parse the same way.
#ifndef DSINFER_APP_COMMAND_OPTIONS_H_
#define DSINFER_APP_COMMAND_OPTIONS_H_

#include <string>

#include "base/status.h"
#include "model/tensor_type_rules.h"
#include "tensor/dtype.h"

namespace dsinfer {

// --threads N: N when positive, else every core the machine reports (at least 1).
int ThreadCount(int requested);

// A type-name option (--kv-type, --hf-type): InvalidArgument "<flag> <name> is not a type
// name" when `name` names no dtype.
StatusOr<DType> TypeOption(const char* flag, const std::string& name);

// --hf-type T (run, perplexity, bench; serve's hf_type): what an HF checkpoint's matrices are
// converted to at load, a weight type or one of llama.cpp's mixtures (Q4_K_M).
StatusOr<TypeRequest> HfTypeOption(const std::string& name);
std::string HfTypeHelp();

}  // namespace dsinfer

#endif  // DSINFER_APP_COMMAND_OPTIONS_H_
