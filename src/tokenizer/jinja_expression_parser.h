// ExpressionParser: the token cursor and the expression half of the Jinja2 parser
// (jinja_parser.h states the grammar; jinja_parser.cc holds the statement half, built on this
// class). Expressions follow jinja2/parser.py's precedence: conditional < or < and < not <
// comparisons < + - < ~ < * / // % < ** < unary - + < filters and tests < postfix . [] ().
//
// Failures are thrown as TemplateError (jinja_error.h); JinjaTemplate turns them into a
// Status. Every recursive production holds a DepthGuard, so nesting past `max_depth` is
// kResourceExhausted rather than a stack overflow.
//
// Thread safety: one parser per parse. It keeps a cursor into `tokens`, which must outlive it
// and end with a kEnd token (as Lex's output does).
#ifndef DSINFER_TOKENIZER_JINJA_EXPRESSION_PARSER_H_
#define DSINFER_TOKENIZER_JINJA_EXPRESSION_PARSER_H_

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_lexer.h"

namespace dsinfer::tokenizer::jinja {

class ExpressionParser {
 public:
  ExpressionParser(const std::vector<Token>& tokens, int max_depth)
      : tokens_(tokens), max_depth_(max_depth) {}

  // Comma-separated expressions: one without a comma is itself, more a tuple (as a list).
  ExprPtr ParseTuple(bool with_condexpr);
  // One expression; with_condexpr allows "a if b else c".
  ExprPtr ParseExpression(bool with_condexpr);

 protected:
  // Depth guard for every recursive production.
  class DepthGuard {
   public:
    explicit DepthGuard(ExpressionParser& p) : p_(p) {
      if (++p_.depth_ > p_.max_depth_) {
        throw TemplateError(StatusCode::kResourceExhausted,
                            "template nesting deeper than " + std::to_string(p_.max_depth_),
                            p_.Peek().line);
      }
    }
    ~DepthGuard() { --p_.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

   private:
    ExpressionParser& p_;
  };

  const Token& Peek(size_t ahead = 0) const {
    const size_t i = std::min(pos_ + ahead, tokens_.size() - 1);
    return tokens_[i];
  }
  const Token& Next() {
    const Token& t = Peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return t;
  }
  bool IsOp(std::string_view op, size_t ahead = 0) const {
    return Peek(ahead).kind == TokenKind::kOperator && Peek(ahead).text == op;
  }
  bool IsName(std::string_view name, size_t ahead = 0) const {
    return Peek(ahead).kind == TokenKind::kName && Peek(ahead).text == name;
  }
  bool SkipOp(std::string_view op) {
    if (!IsOp(op)) return false;
    Next();
    return true;
  }
  bool SkipName(std::string_view name) {
    if (!IsName(name)) return false;
    Next();
    return true;
  }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kBlockEnd: return "end of statement block";
      case TokenKind::kVariableEnd: return "end of print statement";
      case TokenKind::kEnd: return "end of template";
      case TokenKind::kString: return "string";
      default: return "'" + t.text + "'";
    }
  }
  void ExpectOp(std::string_view op) {
    if (!SkipOp(op)) {
      ThrowInvalid("expected '" + std::string(op) + "', got " + Describe(Peek()), Peek().line);
    }
  }
  std::string ExpectName() {
    if (Peek().kind != TokenKind::kName) {
      ThrowInvalid("expected a name, got " + Describe(Peek()), Peek().line);
    }
    return Next().text;
  }

 private:
  ExprPtr MakeExpr(ExprKind kind, int line);
  ExprPtr Binary(ExprKind kind, std::string op, ExprPtr left, ExprPtr right, int line);
  ExprPtr ParseOr();
  ExprPtr ParseAnd();
  ExprPtr ParseNot();
  ExprPtr ParseCompare();
  ExprPtr ParseMath1();
  ExprPtr ParseConcat();
  ExprPtr ParseMath2();
  ExprPtr ParsePow();
  ExprPtr ParseUnary(bool with_filter);
  ExprPtr ParsePrimary();
  ExprPtr ParsePostfix(ExprPtr node);
  ExprPtr ParseSubscript(ExprPtr node);
  // "(" args ")" applied to `subject` as a call, filter or test.
  ExprPtr ParseCall(ExprPtr subject, ExprKind kind, std::string name);
  std::string ParseDottedName();
  ExprPtr ParseFilterExpr(ExprPtr node);

  const std::vector<Token>& tokens_;
  const int max_depth_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace dsinfer::tokenizer::jinja

#endif  // DSINFER_TOKENIZER_JINJA_EXPRESSION_PARSER_H_
