// The statement half of the recursive-descent parser mirroring jinja2/parser.py, and its entry
// point; expressions are parsed by ExpressionParser (jinja_expression_parser.h).
#include "tokenizer/jinja_parser.h"

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_expression_parser.h"

namespace dsinfer::tokenizer::jinja {
namespace {

class StatementParser : public ExpressionParser {
 public:
  using ExpressionParser::ExpressionParser;

  StmtList ParseAll() {
    std::string end;
    StmtList body = ParseBody({}, &end);
    return body;
  }

 private:
  void ExpectBlockEnd() {
    if (Peek().kind != TokenKind::kBlockEnd) {
      ThrowInvalid("expected end of statement block, got " + Describe(Peek()), Peek().line);
    }
    Next();
  }

  // Statements until a {% tag %} named in `ends`; leaves the cursor after that tag's name and
  // stores it in *end. With no ends, runs to the end of the template.
  StmtList ParseBody(std::initializer_list<std::string_view> ends, std::string* end);
  StmtPtr ParseStatement();
  std::vector<std::string> ParseTargets();

  int loop_depth_ = 0;
};

StmtList StatementParser::ParseBody(std::initializer_list<std::string_view> ends,
                                    std::string* end) {
  DepthGuard guard(*this);
  StmtList body;
  while (true) {
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kEnd:
        if (ends.size() != 0) {
          ThrowInvalid("unexpected end of template, expected '" + std::string(*ends.begin()) + "'",
                       t.line);
        }
        return body;
      case TokenKind::kText: {
        auto s = std::make_unique<Stmt>(Stmt{.kind = StmtKind::kText, .line = t.line});
        s->text = Next().text;
        body.push_back(std::move(s));
        break;
      }
      case TokenKind::kVariableBegin: {
        auto s = std::make_unique<Stmt>(Stmt{.kind = StmtKind::kOutput, .line = t.line});
        Next();
        s->expr = ParseTuple(true);
        if (Peek().kind != TokenKind::kVariableEnd) {
          ThrowInvalid("expected end of print statement, got " + Describe(Peek()), Peek().line);
        }
        Next();
        body.push_back(std::move(s));
        break;
      }
      case TokenKind::kBlockBegin: {
        Next();
        const Token& name = Peek();
        if (name.kind != TokenKind::kName) {
          ThrowInvalid("expected a tag name after '{%', got " + Describe(name), name.line);
        }
        for (std::string_view e : ends) {
          if (name.text == e) {
            *end = Next().text;
            return body;
          }
        }
        body.push_back(ParseStatement());
        break;
      }
      default: ThrowInvalid("unexpected " + Describe(t), t.line);
    }
  }
}

StmtPtr StatementParser::ParseStatement() {
  const Token& tag = Next();
  const int line = tag.line;
  const std::string& name = tag.text;
  auto s = std::make_unique<Stmt>(Stmt{.kind = StmtKind::kText, .line = line});
  std::string end;
  if (name == "if") {
    s->kind = StmtKind::kIf;
    ExprPtr cond = ParseTuple(false);
    while (true) {
      ExpectBlockEnd();
      StmtList branch = ParseBody({"elif", "else", "endif"}, &end);
      s->branches.emplace_back(std::move(cond), std::move(branch));
      if (end == "elif") {
        cond = ParseTuple(false);
        continue;
      }
      if (end == "else") {
        ExpectBlockEnd();
        s->else_body = ParseBody({"endif"}, &end);
      }
      break;
    }
  } else if (name == "for") {
    s->kind = StmtKind::kFor;
    s->targets = ParseTargets();
    if (!SkipName("in")) ThrowInvalid("expected 'in' in a for loop", line);
    s->expr = ParseTuple(false);
    if (SkipName("if")) s->filter = ParseExpression(true);
    if (IsName("recursive")) ThrowUnsupported("recursive for loops are not supported", line);
    ExpectBlockEnd();
    ++loop_depth_;
    s->body = ParseBody({"endfor", "else"}, &end);
    --loop_depth_;
    if (end == "else") {
      ExpectBlockEnd();
      s->else_body = ParseBody({"endfor"}, &end);
    }
  } else if (name == "set") {
    s->kind = StmtKind::kSet;
    if (Peek(1).kind == TokenKind::kOperator && Peek(1).text == ".") {
      s->targets.push_back(ExpectName());
      Next();
      s->attribute = ExpectName();
    } else {
      s->targets = ParseTargets();
    }
    if (SkipOp("=")) {
      s->expr = ParseTuple(true);
    } else {
      if (!s->attribute.empty() || s->targets.size() != 1) {
        ThrowInvalid("a block {% set %} assigns exactly one name", line);
      }
      if (IsOp("|")) ThrowUnsupported("filtered block {% set %} is not supported", line);
      s->kind = StmtKind::kSetBlock;
      ExpectBlockEnd();
      s->body = ParseBody({"endset"}, &end);
    }
  } else if (name == "macro") {
    s->kind = StmtKind::kMacro;
    s->text = ExpectName();
    ExpectOp("(");
    while (!SkipOp(")")) {
      if (!s->params.empty()) ExpectOp(",");
      if (SkipOp(")")) break;
      std::string param = ExpectName();
      ExprPtr default_value = SkipOp("=") ? ParseExpression(true) : nullptr;
      s->params.emplace_back(std::move(param), std::move(default_value));
    }
    ExpectBlockEnd();
    const int saved_loop_depth = std::exchange(loop_depth_, 0);
    s->body = ParseBody({"endmacro"}, &end);
    loop_depth_ = saved_loop_depth;
  } else if (name == "call") {
    s->kind = StmtKind::kCallBlock;
    if (IsOp("(")) ThrowUnsupported("{% call %} with caller arguments is not supported", line);
    s->expr = ParseExpression(true);
    if (s->expr->kind != ExprKind::kCall) ThrowInvalid("{% call %} expects a macro call", line);
    ExpectBlockEnd();
    s->body = ParseBody({"endcall"}, &end);
  } else if (name == "with") {
    s->kind = StmtKind::kScope;
    while (Peek().kind != TokenKind::kBlockEnd) {
      if (!s->params.empty()) ExpectOp(",");
      std::string target = ExpectName();
      ExpectOp("=");
      s->params.emplace_back(std::move(target), ParseExpression(true));
    }
    ExpectBlockEnd();
    s->body = ParseBody({"endwith"}, &end);
  } else if (name == "generation") {
    s->kind = StmtKind::kScope;
    ExpectBlockEnd();
    s->body = ParseBody({"endgeneration"}, &end);
  } else if (name == "break" || name == "continue") {
    if (loop_depth_ == 0) ThrowInvalid("'" + name + "' outside a for loop", line);
    s->kind = name == "break" ? StmtKind::kBreak : StmtKind::kContinue;
  } else if (name == "include" || name == "extends" || name == "block" || name == "import" ||
             name == "from" || name == "filter" || name == "autoescape" || name == "trans") {
    ThrowUnsupported("the {% " + name + " %} tag is not supported", line);
  } else {
    ThrowInvalid("unknown tag '" + name + "'", line);
  }
  ExpectBlockEnd();
  return s;
}

std::vector<std::string> StatementParser::ParseTargets() {
  std::vector<std::string> targets;
  const bool paren = SkipOp("(");
  do {
    targets.push_back(ExpectName());
  } while (SkipOp(",") && Peek().kind == TokenKind::kName);
  if (paren) ExpectOp(")");
  return targets;
}

}  // namespace

StmtList ParseTemplate(const std::vector<Token>& tokens, int max_depth) {
  StatementParser parser(tokens, max_depth);
  return parser.ParseAll();
}

}  // namespace dsinfer::tokenizer::jinja
