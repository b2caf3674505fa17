// JinjaTemplate: a Jinja2 template parsed once and rendered many times, with the settings
// Hugging Face transformers uses for chat templates (trim_blocks, lstrip_blocks,
// loopcontrols, tojson with ensure_ascii=False, raise_exception and strftime_now globals).
//
// It runs the subset of Jinja2 that real chat templates use (see jinja_parser.h and
// jinja_builtins.h for the list); anything else is an error naming the construct and the
// template line, never silently different output. Error codes: kInvalidArgument for a
// malformed template, an undefined value used where Jinja2 raises, or raise_exception()
// (message "raise_exception: <msg>"); kUnimplemented for Jinja2 features not supported;
// kResourceExhausted when a limit is hit. Messages read "template line N: ...".
//
// Thread safety: Parse is a pure function; a JinjaTemplate is immutable and Render may run
// concurrently from many threads.
#ifndef DSINFER_TOKENIZER_JINJA_TEMPLATE_H_
#define DSINFER_TOKENIZER_JINJA_TEMPLATE_H_

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "tokenizer/jinja_interpreter.h"
#include "tokenizer/jinja_value.h"

namespace dsinfer::tokenizer {

struct JinjaLimits {
  int max_nesting = 128;  // statements and expressions, at parse time
  jinja::RenderLimits render;
  size_t max_template_bytes = size_t{1} << 20;
};

class JinjaTemplate {
 public:
  static StatusOr<JinjaTemplate> Parse(std::string_view source, const JinjaLimits& limits = {});

  // Renders with `variables` as the template's context (globals such as namespace and
  // raise_exception are added underneath them).
  StatusOr<std::string> Render(const jinja::ValueDict& variables) const;
  // The same with a JSON object of variables.
  StatusOr<std::string> Render(const nlohmann::ordered_json& variables) const;

 private:
  struct Tree;
  JinjaTemplate(std::shared_ptr<const Tree> tree, JinjaLimits limits)
      : tree_(std::move(tree)), limits_(limits) {}

  std::shared_ptr<const Tree> tree_;
  JinjaLimits limits_;
};

}  // namespace dsinfer::tokenizer

#endif  // DSINFER_TOKENIZER_JINJA_TEMPLATE_H_
