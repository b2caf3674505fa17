// The Jinja2 tree-walking interpreter: runs a parsed template against variables.
//
// Scoping follows Jinja2: the template's top level, each for-loop iteration, each macro call
// and each {% with %} are scopes; {% set %} assigns in the innermost one (so a set inside a
// loop body is gone after the iteration, which is why templates use namespace()); if-blocks
// are not scopes. Globals: namespace, range, dict, raise_exception(msg) (a kFailedPrecondition
// error carrying msg), strftime_now(format) (local time, as transformers does).
//
// Limits bound a hostile template: loop iterations in total, macro call depth, and output
// bytes (strings built by + ~ * count too); exceeding one is kResourceExhausted.
//
// Errors throw jinja::TemplateError with the template line. Thread safety: each call is
// independent; the tree is only read.
#ifndef DSINFER_TOKENIZER_JINJA_INTERPRETER_H_
#define DSINFER_TOKENIZER_JINJA_INTERPRETER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "tokenizer/jinja_ast.h"

namespace dsinfer::tokenizer::jinja {

struct RenderLimits {
  int64_t max_loop_iterations = 1'000'000;
  int max_call_depth = 64;
  size_t max_output_bytes = size_t{16} << 20;
};

std::string RenderTree(const StmtList& body, const ValueDict& variables,
                       const RenderLimits& limits);

}  // namespace dsinfer::tokenizer::jinja

#endif  // DSINFER_TOKENIZER_JINJA_INTERPRETER_H_
