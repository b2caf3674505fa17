// Option values that several subcommands parse the same way.
#ifndef DSINFER_APP_COMMAND_OPTIONS_H_
#define DSINFER_APP_COMMAND_OPTIONS_H_

#include <string>

#include "base/status.h"
#include "tensor/dtype.h"

namespace dsinfer {

// --threads N: N when positive, else every core the machine reports (at least 1).
int ThreadCount(int requested);

// A type-name option (--kv-type, --hf-type): InvalidArgument "<flag> <name> is not a type
// name" when `name` names no dtype.
StatusOr<DType> TypeOption(const char* flag, const std::string& name);

}  // namespace dsinfer

#endif  // DSINFER_APP_COMMAND_OPTIONS_H_
