// UTF-8 validation for names and keys read from untrusted files.
#ifndef DSINFER_BASE_UTF8_H_
#define DSINFER_BASE_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace dsinfer {

// True if `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Byte offset of the first ill-formed sequence, or text.size() if there is none.
size_t FirstInvalidUtf8Offset(std::string_view text);

// A printable rendering of untrusted text for error messages: valid UTF-8 and printable
// ASCII pass through, anything else becomes \xNN; long text is cut at `max_bytes` with "...".
std::string EscapeForMessage(std::string_view text, size_t max_bytes = 80);

}  // namespace dsinfer

#endif  // DSINFER_BASE_UTF8_H_
