// LoadTokenizer: the tokenizer of whatever a user points dsinfer at: a GGUF file (its
// tokenizer.ggml.* metadata), a tokenizer.json file (with tokenizer_config.json beside it
// when present), or a Hugging Face model directory holding those two files.
//
// Thread safety: a pure function (reads files).
#ifndef DSINFER_TOKENIZER_LOAD_TOKENIZER_H_
#define DSINFER_TOKENIZER_LOAD_TOKENIZER_H_

#include <string>

#include "base/status.h"
#include "tokenizer/tokenizer.h"

namespace dsinfer::tokenizer {

// Errors name the path; a missing file is NotFound.
StatusOr<Tokenizer> LoadTokenizer(const std::string& path);

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_LOAD_TOKENIZER_H_
