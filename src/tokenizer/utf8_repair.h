// UTF-8 repair for text that crosses the tokenizer boundary.
//
// Encode takes arbitrary bytes: each maximal ill-formed subpart becomes U+FFFD, which is what
// the JS reference sees (TextDecoder) and what Rust's from_utf8_lossy does (Unicode §3.9,
// "U+FFFD substitution of maximal subparts"). Decoded token bytes may end inside a character
// (byte-level tokens split multi-byte characters), so streaming output holds such a tail back.
//
// Thread safety: pure functions.
#ifndef DSINFER_TOKENIZER_UTF8_REPAIR_H_
#define DSINFER_TOKENIZER_UTF8_REPAIR_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace dsinfer::tokenizer {

// `text` with every maximal ill-formed subpart replaced by U+FFFD (EF BF BD).
std::string ReplaceInvalidUtf8(std::string_view text);

// How many bytes at the end of `text` are a proper prefix of a well-formed multi-byte
// sequence (0..3): bytes that the next bytes may still complete.
size_t IncompleteUtf8Tail(std::string_view text);

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_UTF8_REPAIR_H_
