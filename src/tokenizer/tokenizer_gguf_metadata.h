// The tokenizer.* GGUF metadata llama.cpp's convert_hf_to_gguf.py writes for a byte-level BPE
// tokenizer.json (+ tokenizer_config.json), for `dsinfer convert`
// (shared/reference/deepseek-models.md §6.4):
//
//   tokenizer.ggml.model       "gpt2"
//   tokenizer.ggml.pre         the preset whose pre-tokenizer splits text as tokenizer.json's
//                              does (DetectGgufPre)
//   tokenizer.ggml.tokens      vocab_size entries (config.json's, the embedding rows): byte-level
//                              token text, added tokens as written; ids with no token become
//                              "[PAD<id>]"
//   tokenizer.ggml.token_type  1 normal, 3 control (special added tokens, and non-special ones
//                              that look special: <|...|>, <｜...｜>, <pad>, ...), 4 user-defined
//                              (other added tokens, U+2581 written as a space), 5 unused (fillers)
//   tokenizer.ggml.merges      "left right", in rank order
//   tokenizer.ggml.bos/eos_token_id  tokenizer_config.json's bos_token / eos_token
//   tokenizer.ggml.add_bos/add_eos_token  when tokenizer_config.json has them
//   tokenizer.chat_template    tokenizer_config.json's (the "default" one of a list)
//
// Loading the result with LoadGgufTokenizer gives the tokenizer LoadHfTokenizer gives, apart
// from what GGUF cannot say (tests/unit/tokenizer/gguf_json_parity_test.cc).
//
// Thread safety: pure functions.
#ifndef DSINFER_TOKENIZER_TOKENIZER_GGUF_METADATA_H_
#define DSINFER_TOKENIZER_TOKENIZER_GGUF_METADATA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "formats/gguf_value.h"
#include "tokenizer/tokenizer.h"

namespace dsinfer::tokenizer {

// The tokenizer.ggml.pre preset (PreTokenizerPatterns) that cuts a fixed test text (llama.cpp's
// own, which it hashes to choose) into the same pieces as `spec`'s pre-tokenizer. Presets with
// one regex are told apart by vocabulary: qwen2's is "deepseek-r1-qwen" when the DeepSeek
// begin-of-sentence token is present. NotFound when none matches.
StatusOr<std::string> DetectGgufPre(const TokenizerSpec& spec);

// `tokenizer_config` may be absent. `vocab_size`: the model's embedding rows; a token id at or
// past it is InvalidArgument. `pre` empty: DetectGgufPre.
StatusOr<std::vector<GgufKeyValue>> TokenizerGgufMetadata(
    std::string_view tokenizer_json, std::optional<std::string_view> tokenizer_config,
    int64_t vocab_size, std::string pre = "");

// Reads tokenizer.json and tokenizer_config.json from an HF checkpoint directory; nullopt when
// it has no tokenizer.json.
StatusOr<std::optional<std::vector<GgufKeyValue>>> TokenizerGgufMetadataFromDir(
    const std::string& dir, int64_t vocab_size);

// The metadata of a model without a vocabulary: tokenizer.ggml.model = "no_vocab", llama.cpp's
// mark for it (without the key llama.cpp refuses the file). Such a model runs on token ids.
std::vector<GgufKeyValue> NoVocabularyGgufMetadata();

// Whether `model` (a tokenizer.ggml.model value) is llama.cpp's mark for no vocabulary.
bool IsNoVocabularyModel(std::string_view model);

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_TOKENIZER_GGUF_METADATA_H_
