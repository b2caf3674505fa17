// The Jinja2 lexer: template source to a flat token stream, with whitespace control applied.
//
// Text between tags becomes kText tokens; each {{ ... }} and {% ... %} becomes a begin token,
// its expression tokens and an end token; comments vanish; {% raw %} bodies become text.
// Whitespace follows Jinja2 as transformers configures it (trim_blocks=True,
// lstrip_blocks=True, keep_trailing_newline=False):
//   - "{%-", "{{-", "{#-" strip all whitespace before the tag; "-%}", "-}}", "-#}" after it;
//   - trim_blocks: the first "\n" after a block or comment tag is dropped (not after "+%}");
//   - lstrip_blocks: spaces and tabs between a line start and a block or comment tag are
//     dropped (not for "{%+" and not for {{ }});
//   - "\r\n" and "\r" become "\n", and one trailing newline of the template is dropped.
//
// Errors (an unclosed tag or string, a stray character) throw jinja::TemplateError with the
// line. Thread safety: a pure function.
#ifndef DSINFER_TOKENIZER_JINJA_LEXER_H_
#define DSINFER_TOKENIZER_JINJA_LEXER_H_

#include <string>
#include <string_view>
#include <vector>

namespace dsinfer::tokenizer::jinja {

enum class TokenKind {
  kText,
  kVariableBegin,
  kVariableEnd,
  kBlockBegin,
  kBlockEnd,
  kName,
  kString,   // text holds the decoded value
  kInteger,  // text holds the digits, underscores removed
  kFloat,
  kOperator,
  kEnd,
};

struct Token {
  TokenKind kind;
  std::string text;
  int line;
};

struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

std::vector<Token> Tokenize(std::string_view source, const LexerOptions& options);

}  // namespace dsinfer::tokenizer::jinja

#endif  // DSINFER_TOKENIZER_JINJA_LEXER_H_
