// Loader for Hugging Face tokenizers: tokenizer.json (the `tokenizers` library's format) and
// tokenizer_config.json (special-token names, add_bos_token, the chat template).
//
// Supported: model BPE (vocab, merges as "a b" strings or [a, b] pairs, ignore_merges,
// unk_token), added_tokens (special, lstrip, rstrip, single_word, normalized), normalizer
// null / Sequence / Prepend / Replace / Strip, pre_tokenizer Sequence / Split (Regex or
// String pattern, every behavior, invert) / ByteLevel / Digits, decoder null / ByteLevel.
// Anything else is Unimplemented, naming the field and type; post_processor is ignored
// (BOS comes from tokenizer_config.json's add_bos_token).
//
// The files are untrusted: every defect is an InvalidArgument that names the file and the
// field ("tokenizer.json: model.merges[7]: must be ..."), never a crash.
//
// Thread safety: pure functions.
#ifndef DSINFER_TOKENIZER_TOKENIZER_JSON_H_
#define DSINFER_TOKENIZER_TOKENIZER_JSON_H_

#include <optional>
#include <string_view>

#include "base/status.h"
#include "tokenizer/tokenizer.h"

namespace dsinfer::tokenizer {

// `file` names the source in messages.
StatusOr<TokenizerSpec> ParseTokenizerJson(std::string_view text, std::string_view file);

// Applies tokenizer_config.json: bos_token / eos_token (a string or {"content": ...}),
// add_bos_token, add_eos_token, chat_template (a string, or a list of {name, template} from
// which "default" is taken).
Status ApplyTokenizerConfig(std::string_view text, std::string_view file, TokenizerSpec* spec);

StatusOr<Tokenizer> LoadHfTokenizer(std::string_view tokenizer_json,
                                    std::optional<std::string_view> tokenizer_config);

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_TOKENIZER_JSON_H_
