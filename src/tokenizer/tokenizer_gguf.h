// Loader for the tokenizer llama.cpp stores in GGUF metadata (tokenizer.ggml.*): model
// "gpt2" (byte-level BPE), tokens, merges, token_type, the pre-tokenizer preset named by
// tokenizer.ggml.pre, bos/eos ids, add_bos_token and the chat template.
//
// Presets map to the same Split regexes as the model's tokenizer.json (llama.cpp's
// llama-vocab.cpp lists them): deepseek-v3, deepseek-llm, deepseek-coder, qwen2 (and
// deepseek-r1-qwen), llama-bpe (llama3, with ignore_merges), gpt-2 / default. Tokens of type
// CONTROL (3) are special added tokens, USER_DEFINED (4) non-special added tokens, UNUSED (5)
// are the converter's "[PAD<id>]" fillers and stay holes. convert_hf_to_gguf.py also writes
// non-special added tokens that look special (<｜User｜>) as CONTROL, so with parse_special
// off their text is plain text here, as in llama.cpp, where tokenizer.json makes it one token.
//
// Thread safety: pure functions; the GgufFile is only read.
#ifndef DSINFER_TOKENIZER_TOKENIZER_GGUF_H_
#define DSINFER_TOKENIZER_TOKENIZER_GGUF_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "formats/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace dsinfer::tokenizer {

// The Split regexes (each Isolated, then ByteLevel without its own regex) of a
// tokenizer.ggml.pre name; Unimplemented for a name not listed above.
StatusOr<std::vector<std::string>> PreTokenizerPatterns(std::string_view pre);

StatusOr<TokenizerSpec> ReadGgufTokenizerSpec(const GgufFile& file);
StatusOr<Tokenizer> LoadGgufTokenizer(const GgufFile& file);

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_TOKENIZER_GGUF_H_
