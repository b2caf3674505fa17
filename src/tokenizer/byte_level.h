// GPT-2's byte-level alphabet, which every DeepSeek, Qwen2 and Llama-3 tokenizer uses: each of
// the 256 byte values is written as one printable Unicode code point, so that BPE merges and
// vocabulary entries are valid UTF-8 strings whatever the input bytes were. Printable
// Latin-1 bytes ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) stand for themselves; the other 68
// bytes map, in byte order, to U+0100.. (so a space is 'Ġ' U+0120 and a newline 'Ċ' U+010A).
//
// Thread safety: the tables are built once, immutable, and safe to read from any thread.
#ifndef DSINFER_TOKENIZER_BYTE_LEVEL_H_
#define DSINFER_TOKENIZER_BYTE_LEVEL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsinfer::tokenizer {

// The code point that stands for byte b.
char32_t ByteToCodePoint(uint8_t b);

// The byte that code point c stands for, or nullopt if c is not in the alphabet.
std::optional<uint8_t> CodePointToByte(char32_t c);

// Each byte of `bytes` as its code point, UTF-8 encoded (what BPE works on).
std::string BytesToByteLevel(std::string_view bytes);

// The inverse: the raw bytes of a byte-level string. nullopt if `text` is not valid UTF-8 or
// holds a code point outside the alphabet (a vocabulary entry that is not byte-level, such
// as an added token's literal text, must be decoded as plain UTF-8 instead).
std::optional<std::string> ByteLevelToBytes(std::string_view text);

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_BYTE_LEVEL_H_
