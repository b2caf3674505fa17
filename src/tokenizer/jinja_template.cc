// JinjaTemplate: lexer + parser at Parse, interpreter at Render; TemplateError -> Status.
#include "tokenizer/jinja_template.h"

#include <utility>

#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_lexer.h"
#include "tokenizer/jinja_parser.h"

namespace dsinfer::tokenizer {

struct JinjaTemplate::Tree {
  jinja::StmtList body;
};

namespace {

Status ToStatus(const jinja::TemplateError& e) {
  std::string message = e.line() > 0 ? "template line " + std::to_string(e.line()) + ": " : "";
  return Status(e.code(), message + e.message());
}

}  // namespace

StatusOr<JinjaTemplate> JinjaTemplate::Parse(std::string_view source, const JinjaLimits& limits) {
  if (source.size() > limits.max_template_bytes) {
    return PayloadTooLargeError("template of " + std::to_string(source.size()) +
                                " bytes is over the limit of " +
                                std::to_string(limits.max_template_bytes));
  }
  try {
    const std::vector<jinja::Token> tokens = jinja::Tokenize(source, jinja::LexerOptions{});
    auto tree = std::make_shared<Tree>();
    tree->body = jinja::ParseTemplate(tokens, limits.max_nesting);
    return JinjaTemplate(std::move(tree), limits);
  } catch (const jinja::TemplateError& e) {
    return ToStatus(e);
  }
}

StatusOr<std::string> JinjaTemplate::Render(const jinja::ValueDict& variables) const {
  try {
    return jinja::RenderTree(tree_->body, variables, limits_.render);
  } catch (const jinja::TemplateError& e) {
    return ToStatus(e);
  }
}

StatusOr<std::string> JinjaTemplate::Render(const nlohmann::ordered_json& variables) const {
  if (!variables.is_object()) return InvalidArgumentError("template variables must be an object");
  try {
    const jinja::Value value = jinja::Value::FromJson(variables);  // throws when too deep
    return Render(value.as_dict());
  } catch (const jinja::TemplateError& e) {
    return ToStatus(e);
  }
}

}  // namespace dsinfer::tokenizer
