// The expression half of the recursive-descent parser mirroring jinja2/parser.py.
#include "tokenizer/jinja_expression_parser.h"

#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_error.h"

namespace dsinfer::tokenizer::jinja {
namespace {

void CheckSupport(BuiltinSupport support, const std::string& what, const std::string& name,
                  int line) {
  if (support == BuiltinSupport::kUnsupported) {
    ThrowUnsupported("the '" + name + "' " + what + " is not supported", line);
  }
  if (support == BuiltinSupport::kUnknown)
    ThrowInvalid("no " + what + " named '" + name + "'", line);
}

}  // namespace

ExprPtr ExpressionParser::MakeExpr(ExprKind kind, int line) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = line;
  return e;
}

ExprPtr ExpressionParser::ParseTuple(bool with_condexpr) {
  const int line = Peek().line;
  ExprPtr first = ParseExpression(with_condexpr);
  if (!IsOp(",")) return first;
  ExprPtr tuple = MakeExpr(ExprKind::kList, line);
  tuple->negated = true;  // a tuple
  tuple->children.push_back(std::move(first));
  while (SkipOp(",")) {
    const TokenKind k = Peek().kind;
    if (k == TokenKind::kBlockEnd || k == TokenKind::kVariableEnd || IsOp(")")) break;
    if (IsName("in") || IsName("if")) break;
    tuple->children.push_back(ParseExpression(with_condexpr));
  }
  return tuple;
}

ExprPtr ExpressionParser::ParseExpression(bool with_condexpr) {
  DepthGuard guard(*this);
  ExprPtr expr = ParseOr();
  if (!with_condexpr) return expr;
  while (IsName("if")) {
    const int line = Next().line;
    ExprPtr cond = ParseOr();
    ExprPtr otherwise = SkipName("else") ? ParseExpression(true) : nullptr;
    ExprPtr node = MakeExpr(ExprKind::kCondition, line);
    node->children.push_back(std::move(expr));
    node->children.push_back(std::move(cond));
    node->children.push_back(std::move(otherwise));
    expr = std::move(node);
  }
  return expr;
}

ExprPtr ExpressionParser::Binary(ExprKind kind, std::string op, ExprPtr left, ExprPtr right,
                                 int line) {
  ExprPtr node = MakeExpr(kind, line);
  node->name = std::move(op);
  node->children.push_back(std::move(left));
  node->children.push_back(std::move(right));
  return node;
}

ExprPtr ExpressionParser::ParseOr() {
  ExprPtr left = ParseAnd();
  while (IsName("or")) {
    const int line = Next().line;
    left = Binary(ExprKind::kOr, "or", std::move(left), ParseAnd(), line);
  }
  return left;
}

ExprPtr ExpressionParser::ParseAnd() {
  ExprPtr left = ParseNot();
  while (IsName("and")) {
    const int line = Next().line;
    left = Binary(ExprKind::kAnd, "and", std::move(left), ParseNot(), line);
  }
  return left;
}

ExprPtr ExpressionParser::ParseNot() {
  DepthGuard guard(*this);
  if (IsName("not")) {
    ExprPtr node = MakeExpr(ExprKind::kNot, Next().line);
    node->children.push_back(ParseNot());
    return node;
  }
  return ParseCompare();
}

ExprPtr ExpressionParser::ParseCompare() {
  const int line = Peek().line;
  ExprPtr first = ParseMath1();
  ExprPtr node;
  while (true) {
    std::string op;
    if (Peek().kind == TokenKind::kOperator &&
        (Peek().text == "==" || Peek().text == "!=" || Peek().text == "<" || Peek().text == "<=" ||
         Peek().text == ">" || Peek().text == ">=")) {
      op = Next().text;
    } else if (IsName("in")) {
      Next();
      op = "in";
    } else if (IsName("not") && IsName("in", 1)) {
      Next();
      Next();
      op = "not in";
    } else {
      break;
    }
    if (!node) {
      node = MakeExpr(ExprKind::kCompare, line);
      node->children.push_back(std::move(first));
    }
    node->ops.push_back(std::move(op));
    node->children.push_back(ParseMath1());
  }
  return node ? std::move(node) : std::move(first);
}

ExprPtr ExpressionParser::ParseMath1() {
  ExprPtr left = ParseConcat();
  while (IsOp("+") || IsOp("-")) {
    const Token& t = Next();
    left = Binary(ExprKind::kBinary, t.text, std::move(left), ParseConcat(), t.line);
  }
  return left;
}

ExprPtr ExpressionParser::ParseConcat() {
  ExprPtr left = ParseMath2();
  while (IsOp("~")) {
    const int line = Next().line;
    left = Binary(ExprKind::kBinary, "~", std::move(left), ParseMath2(), line);
  }
  return left;
}

ExprPtr ExpressionParser::ParseMath2() {
  ExprPtr left = ParsePow();
  while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
    const Token& t = Next();
    left = Binary(ExprKind::kBinary, t.text, std::move(left), ParsePow(), t.line);
  }
  return left;
}

ExprPtr ExpressionParser::ParsePow() {
  ExprPtr left = ParseUnary(true);
  while (IsOp("**")) {
    const int line = Next().line;
    left = Binary(ExprKind::kBinary, "**", std::move(left), ParseUnary(true), line);
  }
  return left;
}

ExprPtr ExpressionParser::ParseUnary(bool with_filter) {
  DepthGuard guard(*this);
  ExprPtr node;
  if (IsOp("-") || IsOp("+")) {
    const Token& t = Next();
    node = MakeExpr(ExprKind::kUnary, t.line);
    node->name = t.text;
    node->children.push_back(ParseUnary(false));
  } else {
    node = ParsePrimary();
  }
  node = ParsePostfix(std::move(node));
  if (with_filter) node = ParseFilterExpr(std::move(node));
  return node;
}

ExprPtr ExpressionParser::ParsePrimary() {
  const Token& t = Peek();
  const int line = t.line;
  switch (t.kind) {
    case TokenKind::kName: {
      Next();
      ExprPtr node = MakeExpr(ExprKind::kLiteral, line);
      if (t.text == "true" || t.text == "True") {
        node->literal = Value(true);
      } else if (t.text == "false" || t.text == "False") {
        node->literal = Value(false);
      } else if (t.text == "none" || t.text == "None") {
        node->literal = Value::None();
      } else {
        node->kind = ExprKind::kName;
        node->name = t.text;
      }
      return node;
    }
    case TokenKind::kString: {
      std::string s;
      while (Peek().kind == TokenKind::kString) s += Next().text;
      ExprPtr node = MakeExpr(ExprKind::kLiteral, line);
      node->literal = Value(std::move(s));
      return node;
    }
    case TokenKind::kInteger: {
      Next();
      errno = 0;
      const long long v = std::strtoll(t.text.c_str(), nullptr, 10);
      ExprPtr node = MakeExpr(ExprKind::kLiteral, line);
      if (errno == ERANGE) ThrowUnsupported("integer literal too large: " + t.text, line);
      node->literal = Value(static_cast<int64_t>(v));
      return node;
    }
    case TokenKind::kFloat: {
      Next();
      ExprPtr node = MakeExpr(ExprKind::kLiteral, line);
      node->literal = Value(std::strtod(t.text.c_str(), nullptr));
      return node;
    }
    case TokenKind::kOperator:
      if (t.text == "(") {
        Next();
        if (SkipOp(")")) {
          ExprPtr empty = MakeExpr(ExprKind::kList, line);  // ()
          empty->negated = true;
          return empty;
        }
        ExprPtr inner = ParseTuple(true);
        ExpectOp(")");
        return inner;
      }
      if (t.text == "[") {
        Next();
        ExprPtr node = MakeExpr(ExprKind::kList, line);
        while (!SkipOp("]")) {
          if (!node->children.empty()) ExpectOp(",");
          if (SkipOp("]")) break;
          node->children.push_back(ParseExpression(true));
        }
        return node;
      }
      if (t.text == "{") {
        Next();
        ExprPtr node = MakeExpr(ExprKind::kDict, line);
        while (!SkipOp("}")) {
          if (!node->children.empty()) ExpectOp(",");
          if (SkipOp("}")) break;
          node->children.push_back(ParseExpression(true));
          ExpectOp(":");
          node->children.push_back(ParseExpression(true));
        }
        return node;
      }
      break;
    default: break;
  }
  ThrowInvalid("unexpected " + Describe(t), line);
}

ExprPtr ExpressionParser::ParsePostfix(ExprPtr node) {
  while (true) {
    if (IsOp(".")) {
      const int line = Next().line;
      const Token& attr = Next();
      if (attr.kind == TokenKind::kName) {
        ExprPtr get = MakeExpr(ExprKind::kGetAttr, line);
        get->name = attr.text;
        get->children.push_back(std::move(node));
        node = std::move(get);
      } else if (attr.kind == TokenKind::kInteger) {
        ExprPtr index = MakeExpr(ExprKind::kLiteral, line);
        index->literal = Value(static_cast<int64_t>(std::strtoll(attr.text.c_str(), nullptr, 10)));
        ExprPtr get = MakeExpr(ExprKind::kGetItem, line);
        get->children.push_back(std::move(node));
        get->children.push_back(std::move(index));
        node = std::move(get);
      } else {
        ThrowInvalid("expected an attribute name after '.', got " + Describe(attr), line);
      }
    } else if (IsOp("[")) {
      node = ParseSubscript(std::move(node));
    } else if (IsOp("(")) {
      node = ParseCall(std::move(node), ExprKind::kCall, "");
    } else {
      return node;
    }
  }
}

ExprPtr ExpressionParser::ParseSubscript(ExprPtr node) {
  const int line = Next().line;  // "["
  ExprPtr bounds[3];
  bool is_slice = false;
  if (!IsOp(":")) bounds[0] = ParseExpression(true);
  if (SkipOp(":")) {
    is_slice = true;
    if (!IsOp("]") && !IsOp(":")) bounds[1] = ParseExpression(true);
    if (SkipOp(":") && !IsOp("]")) bounds[2] = ParseExpression(true);
  }
  ExpectOp("]");
  ExprPtr get = MakeExpr(is_slice ? ExprKind::kSlice : ExprKind::kGetItem, line);
  get->children.push_back(std::move(node));
  get->children.push_back(std::move(bounds[0]));
  if (is_slice) {
    get->children.push_back(std::move(bounds[1]));
    get->children.push_back(std::move(bounds[2]));
  }
  return get;
}

ExprPtr ExpressionParser::ParseCall(ExprPtr subject, ExprKind kind, std::string name) {
  ExprPtr call = MakeExpr(kind, Peek().line);
  call->name = std::move(name);
  call->children.push_back(std::move(subject));
  ExpectOp("(");
  bool first = true;
  while (!SkipOp(")")) {
    if (!first) ExpectOp(",");
    first = false;
    if (SkipOp(")")) break;
    if (IsOp("*") || IsOp("**"))
      ThrowUnsupported("*args and **kwargs are not supported", Peek().line);
    if (Peek().kind == TokenKind::kName && IsOp("=", 1)) {
      std::string key = Next().text;
      Next();
      call->keywords.emplace_back(std::move(key), ParseExpression(true));
    } else {
      if (!call->keywords.empty()) {
        ThrowInvalid("positional argument after a keyword argument", Peek().line);
      }
      call->children.push_back(ParseExpression(true));
    }
  }
  return call;
}

std::string ExpressionParser::ParseDottedName() {
  std::string name = ExpectName();
  while (IsOp(".") && Peek(1).kind == TokenKind::kName) {
    Next();
    name += "." + Next().text;
  }
  return name;
}

ExprPtr ExpressionParser::ParseFilterExpr(ExprPtr node) {
  while (true) {
    if (IsOp("|")) {
      const int line = Next().line;
      std::string name = ParseDottedName();
      CheckSupport(FilterSupport(name), "filter", name, line);
      if (IsOp("(")) {
        node = ParseCall(std::move(node), ExprKind::kFilter, std::move(name));
      } else {
        ExprPtr filter = MakeExpr(ExprKind::kFilter, line);
        filter->name = std::move(name);
        filter->children.push_back(std::move(node));
        node = std::move(filter);
      }
      node->line = line;
    } else if (IsName("is")) {
      const int line = Next().line;
      const bool negated = SkipName("not");
      std::string name = ParseDottedName();
      CheckSupport(TestSupport(name), "test", name, line);
      if (IsOp("(")) {
        node = ParseCall(std::move(node), ExprKind::kTest, std::move(name));
      } else {
        ExprPtr test = MakeExpr(ExprKind::kTest, line);
        test->name = std::move(name);
        test->children.push_back(std::move(node));
        const Token& t = Peek();
        const bool arg_follows = (t.kind == TokenKind::kName || t.kind == TokenKind::kString ||
                                  t.kind == TokenKind::kInteger || t.kind == TokenKind::kFloat ||
                                  IsOp("(") || IsOp("[") || IsOp("{")) &&
                                 !IsName("else") && !IsName("or") && !IsName("and");
        if (arg_follows) {
          if (IsName("is")) ThrowInvalid("you cannot chain multiple tests with is", line);
          test->children.push_back(ParsePostfix(ParsePrimary()));
        }
        node = std::move(test);
      }
      node->negated = negated;
      node->line = line;
    } else if (IsOp("(")) {
      node = ParseCall(std::move(node), ExprKind::kCall, "");
    } else {
      return node;
    }
  }
}

}  // namespace dsinfer::tokenizer::jinja
