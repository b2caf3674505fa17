// SplitRegex: one pre-tokenizer pattern compiled by PCRE2 (UTF + UCP, JIT), with the
// JavaScript RegExp semantics the reference tokenizer (transformers.js, "gu" flags) runs:
//  * `\s` / `\S` mean JavaScript's whitespace set (which has U+FEFF but not U+0085), not
//    PCRE2's Unicode White_Space; they are rewritten into explicit classes before compiling.
//  * `$` matches only at the very end (PCRE2_DOLLAR_ENDONLY), as in JS without the m flag.
//  * an empty match advances by one code point, as String.prototype.matchAll does.
// Unicode properties (\p{L}, \p{P}, ...) come from PCRE2's tables (Unicode 14 in 10.42); a
// character assigned after that is "unassigned" here and may split differently.
//
// Thread safety: immutable after Compile(); FindAll may run on many threads at once (match
// data and the JIT stack are per thread).
#ifndef DSINFER_TOKENIZER_SPLIT_REGEX_H_
#define DSINFER_TOKENIZER_SPLIT_REGEX_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace dsinfer::tokenizer {

// A [begin, end) byte range of the subject.
struct ByteRange {
  size_t begin = 0;
  size_t end = 0;
};

class SplitRegex {
 public:
  SplitRegex() = default;  // matches nothing
  // Compiles a regex source as written in tokenizer.json. Errors name the pattern and offset.
  static StatusOr<SplitRegex> Compile(std::string_view pattern);
  // A literal string (tokenizer.json's {"String": ...}).
  static StatusOr<SplitRegex> Literal(std::string_view text);

  // Calls `on_match` for each non-overlapping match in `text` (valid UTF-8), left to right.
  // Fails only when PCRE2 gives up (JIT stack or match limit), naming the pattern.
  Status FindAll(std::string_view text, const std::function<void(ByteRange)>& on_match) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Code;
  std::string pattern_;
  std::shared_ptr<const Code> code_;  // shared: copies of a tokenizer share compiled code
};

// The JS-compatible rewrite of `\s` and `\S` (exposed for tests).
StatusOr<std::string> RewriteForJsSemantics(std::string_view pattern);

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_SPLIT_REGEX_H_
