#include "tokenizer/split_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fmt/format.h>

#include "base/utf8.h"

namespace dsinfer::tokenizer {
namespace {

// ECMAScript WhiteSpace + LineTerminator, as PCRE2 class items.
constexpr std::string_view kJsSpaceItems =
    "\\t\\n\\x0B\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}\\x{FEFF}";

constexpr size_t kJitStackStart = size_t{32} * 1024;
constexpr size_t kJitStackMax = size_t{8} * 1024 * 1024;  // long runs of one class need little

std::string Pcre2ErrorText(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

// Per-thread scratch: one ovector pair is all FindAll reads.
struct ThreadScratch {
  pcre2_match_data* match_data = pcre2_match_data_create(1, nullptr);
  pcre2_jit_stack* jit_stack = pcre2_jit_stack_create(kJitStackStart, kJitStackMax, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  ThreadScratch() { pcre2_jit_stack_assign(context, nullptr, jit_stack); }
  ~ThreadScratch() {
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_data_free(match_data);
  }
  ThreadScratch(const ThreadScratch&) = delete;
  ThreadScratch& operator=(const ThreadScratch&) = delete;
};

ThreadScratch& Scratch() {
  thread_local ThreadScratch scratch;
  return scratch;
}

size_t Utf8Length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  return 4;
}

}  // namespace

struct SplitRegex::Code {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Code() { pcre2_code_free(code); }
};

StatusOr<std::string> RewriteForJsSemantics(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 64);
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[i + 1];
      ++i;
      if (next == 'Q') {  // quoted text is copied through to \E untouched
        const size_t end = pattern.find("\\E", i + 1);
        const size_t stop = end == std::string_view::npos ? pattern.size() : end + 2;
        out += pattern.substr(i - 1, stop - (i - 1));
        i = stop - 1;
      } else if (next == 's') {
        out += in_class ? std::string(kJsSpaceItems) : fmt::format("[{}]", kJsSpaceItems);
      } else if (next == 'S') {
        if (in_class) {
          return UnimplementedError(
              fmt::format("pattern '{}': \\S inside a character class is not supported",
                          EscapeForMessage(pattern)));
        }
        out += fmt::format("[^{}]", kJsSpaceItems);
      } else {
        out += c;
        out += next;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal in PCRE2 (and an empty class in JS;
      // tokenizer patterns never use either).
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      continue;
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

StatusOr<SplitRegex> SplitRegex::Compile(std::string_view pattern) {
  if (!IsValidUtf8(pattern)) {
    return InvalidArgumentError(
        fmt::format("pattern '{}' is not valid UTF-8", EscapeForMessage(pattern)));
  }
  DSI_ASSIGN_OR_RETURN(const std::string rewritten, RewriteForJsSemantics(pattern));
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(
      reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(),
      PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_NO_UTF_CHECK, &error, &offset, nullptr);
  if (code == nullptr) {
    return InvalidArgumentError(fmt::format("pattern '{}' does not compile: {} (at byte {})",
                                            EscapeForMessage(pattern), Pcre2ErrorText(error),
                                            offset));
  }
  auto owned = std::make_shared<Code>();
  owned->code = code;
  owned->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;  // interpreter otherwise
  SplitRegex regex;
  regex.pattern_ = std::string(pattern);
  regex.code_ = std::move(owned);
  return regex;
}

StatusOr<SplitRegex> SplitRegex::Literal(std::string_view text) {
  std::string quoted = "\\Q";
  // \Q..\E quotes everything except "\E" itself, which is split as "\E\\E\Q".
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'E') {
      quoted += "\\E\\\\E\\Q";
      ++i;
    } else {
      quoted += text[i];
    }
  }
  quoted += "\\E";
  if (text.empty()) {
    return InvalidArgumentError("an empty String pattern would match everywhere");
  }
  return Compile(quoted);
}

Status SplitRegex::FindAll(std::string_view text,
                           const std::function<void(ByteRange)>& on_match) const {
  if (code_ == nullptr) return Status::Ok();
  ThreadScratch& scratch = Scratch();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  while (start <= text.size()) {
    const int rc = code_->jit
                       ? pcre2_jit_match(code_->code, subject, text.size(), start, 0,
                                         scratch.match_data, scratch.context)
                       : pcre2_match(code_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                                     scratch.match_data, scratch.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      return ResourceExhaustedError(fmt::format("pattern '{}' failed on the input: {}",
                                                EscapeForMessage(pattern_), Pcre2ErrorText(rc)));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(scratch.match_data);
    const ByteRange match{ovector[0], ovector[1]};
    if (match.end > match.begin) {
      on_match(match);
      start = match.end;
    } else if (match.begin >= text.size()) {
      break;
    } else {  // empty match: step over one code point
      start = match.begin + Utf8Length(static_cast<uint8_t>(text[match.begin]));
    }
  }
  return Status::Ok();
}

}  // namespace dsinfer::tokenizer
