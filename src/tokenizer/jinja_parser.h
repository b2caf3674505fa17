// The Jinja2 parser: tokens to a syntax tree, with Jinja2's grammar and operator precedence
// (jinja2/parser.py): conditional < or < and < not < comparisons < + - < ~ < * / // % < **
// < unary - + < filters and tests < postfix . [] ().
//
// Statements: if/elif/else, for (tuple targets, "if" filter, else), set (names, tuples,
// namespace attributes, block form), macro, call, with, break/continue (transformers enables
// loopcontrols), generation (transformers' AssistantTracker tag, rendered as its body).
// Unknown filters and tests are errors here, at parse time, as in Jinja2. Tags Jinja2 has but
// this interpreter does not run (include, extends, block, import, filter, recursive loops)
// are TemplateErrors with code kUnimplemented naming the tag and line.
//
// Nesting deeper than `max_depth` (statements or expressions) is kResourceExhausted, so a
// hostile template cannot overflow the stack. Thread safety: a pure function.
#ifndef DSINFER_TOKENIZER_JINJA_PARSER_H_
#define DSINFER_TOKENIZER_JINJA_PARSER_H_

#include <vector>

#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_lexer.h"

namespace dsinfer::tokenizer::jinja {

StmtList ParseTemplate(const std::vector<Token>& tokens, int max_depth);

}  // namespace dsinfer::tokenizer::jinja

#endif  // DSINFER_TOKENIZER_JINJA_PARSER_H_
