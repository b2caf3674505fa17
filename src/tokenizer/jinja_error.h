// jinja::TemplateError: how the Jinja lexer, parser and interpreter report a failure.
//
// Internally the interpreter unwinds with this exception (a template error can arise many
// calls deep inside an expression); JinjaTemplate converts it to a Status at its API, so no
// exception leaves the jinja_* files. `line` is the 1-based template line, 0 while unknown
// (a built-in filter throws without one; the expression evaluating it fills it in).
//
// Thread safety: a plain value.
#ifndef DSINFER_TOKENIZER_JINJA_ERROR_H_
#define DSINFER_TOKENIZER_JINJA_ERROR_H_

#include <exception>
#include <string>
#include <utility>

#include "base/status.h"

namespace dsinfer::tokenizer::jinja {

class TemplateError : public std::exception {
 public:
  TemplateError(StatusCode code, std::string message, int line = 0)
      : code_(code), message_(std::move(message)), line_(line) {}

  const char* what() const noexcept override { return message_.c_str(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  int line() const { return line_; }
  void set_line(int line) { line_ = line; }

 private:
  StatusCode code_;
  std::string message_;
  int line_;
};

// A template that is malformed or does something Python's Jinja2 would raise on.
[[noreturn]] inline void ThrowInvalid(std::string message, int line = 0) {
  throw TemplateError(StatusCode::kInvalidArgument, std::move(message), line);
}

// A construct real Jinja2 supports that this interpreter does not run.
[[noreturn]] inline void ThrowUnsupported(std::string message, int line = 0) {
  throw TemplateError(StatusCode::kUnimplemented, std::move(message), line);
}

}  // namespace dsinfer::tokenizer::jinja

#endif  // DSINFER_TOKENIZER_JINJA_ERROR_H_
