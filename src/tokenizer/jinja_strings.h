// Python str operations on UTF-8 text, shared by Jinja's filters and str methods.
//
// Whitespace is Python's str.isspace() set (ASCII whitespace, \x1c-\x1f, U+0085, U+00A0,
// U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000). Case mapping is ASCII
// only. Thread safety: pure functions.
#ifndef DSINFER_TOKENIZER_JINJA_STRINGS_H_
#define DSINFER_TOKENIZER_JINJA_STRINGS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsinfer::tokenizer::jinja {

// str.strip / lstrip / rstrip; `chars` nullopt strips whitespace.
std::string PyStrip(std::string_view s, const std::optional<std::string>& chars, bool left,
                    bool right);
// str.split(sep, maxsplit); sep nullopt splits on runs of whitespace. rsplit when `reverse`.
std::vector<std::string> PySplit(std::string_view s, const std::optional<std::string>& sep,
                                 long maxsplit, bool reverse);
// str.replace(old, new, count); count < 0 replaces all.
std::string PyReplace(std::string_view s, std::string_view from, std::string_view to, long count);
std::string AsciiUpper(std::string_view s);
std::string AsciiLower(std::string_view s);
// str.capitalize: first character upper, the rest lower.
std::string PyCapitalize(std::string_view s);
// Jinja's title filter: each word (split at whitespace, - ( { [ <) capitalised.
std::string JinjaTitle(std::string_view s);

}  // namespace dsinfer::tokenizer::jinja

#endif  // DSINFER_TOKENIZER_JINJA_STRINGS_H_
