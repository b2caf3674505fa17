// The Jinja2 syntax tree the parser builds and the interpreter walks.
//
// Expressions and statements are each one struct with a kind tag rather than a class per
// node: the interpreter switches on the kind, and every node carries its template line for
// error messages. Children are owned; a null child means "absent" (a slice bound, no else).
//
// Thread safety: immutable after parsing; a parsed template may be rendered from many
// threads at once.
#ifndef DSINFER_TOKENIZER_JINJA_AST_H_
#define DSINFER_TOKENIZER_JINJA_AST_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja_value.h"

namespace dsinfer::tokenizer::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  kLiteral,    // literal
  kName,       // name
  kList,       // children: items; negated marks a tuple literal
  kDict,       // children: key0, value0, key1, value1, ...
  kGetAttr,    // children[0].name
  kGetItem,    // children[0][children[1]]
  kSlice,      // children[0][children[1]:children[2]:children[3]], bounds may be null
  kCall,       // children[0](children[1..], keywords)
  kFilter,     // children[0] | name(children[1..], keywords)
  kTest,       // children[0] is [not] name(children[1..], keywords); negated
  kUnary,      // name ("-", "+") children[0]
  kNot,        // not children[0]
  kBinary,     // children[0] name children[1]: + - * / // % ** ~
  kCompare,    // children[0] ops[0] children[1] ops[1] children[2] ... (Python chaining)
  kAnd,        // children[0] and children[1]
  kOr,         // children[0] or children[1]
  kCondition,  // children[0] if children[1] else children[2] (null: undefined)
};

struct Expr {
  ExprKind kind;
  int line = 0;
  Value literal;
  std::string name;
  bool negated = false;
  std::vector<ExprPtr> children;
  std::vector<std::pair<std::string, ExprPtr>> keywords;
  std::vector<std::string> ops;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

enum class StmtKind {
  kText,       // text
  kOutput,     // {{ expr }}
  kIf,         // branches (cond, body)...; else_body
  kFor,        // for targets in expr [if filter]: body; else_body
  kSet,        // set targets = expr, or set targets[0].attribute = expr
  kSetBlock,   // {% set targets[0] %}body{% endset %}
  kMacro,      // macro name(params with defaults): body
  kCallBlock,  // {% call expr %}body{% endcall %}: expr sees the body as caller()
  kBreak,
  kContinue,
  kScope,  // body in a new scope: {% with %} (its assignments come first) and generation
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr filter;
  std::vector<std::string> targets;
  std::string attribute;  // set ns.attribute
  std::vector<std::pair<ExprPtr, StmtList>> branches;
  StmtList body;
  StmtList else_body;
  std::vector<std::pair<std::string, ExprPtr>> params;  // macro params; default may be null
};

}  // namespace dsinfer::tokenizer::jinja

#endif  // DSINFER_TOKENIZER_JINJA_AST_H_
