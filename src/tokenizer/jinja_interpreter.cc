// Statement execution and expression evaluation for jinja_interpreter.h.
#include "tokenizer/jinja_interpreter.h"

#include <cmath>
#include <ctime>
#include <unordered_map>
#include <utility>

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_error.h"

namespace dsinfer::tokenizer::jinja {
namespace {

using Frame = std::unordered_map<std::string, Value>;

enum class Flow { kNormal, kBreak, kContinue };

[[noreturn]] void ThrowExhausted(std::string message) {
  throw TemplateError(StatusCode::kResourceExhausted, std::move(message));
}

class Interpreter {
 public:
  Interpreter(const RenderLimits& limits, std::string* out) : limits_(limits), out_(out) {}
  // Namespaces are the only values that can form cycles (ns.self = ns) or chains as deep as
  // the loop limit, which reference counting would leak or free recursively. Every one this
  // render made is emptied first, while all are still alive, so each is then freed alone.
  ~Interpreter() {
    std::vector<ValueDict> contents;
    contents.reserve(namespaces_.size());
    for (const Value& ns : namespaces_) contents.push_back(std::exchange(ns.namespace_dict(), {}));
    contents.clear();
    namespaces_.clear();
  }
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  void Run(const StmtList& body, const ValueDict& variables) {
    Frame globals;
    AddGlobals(globals);
    for (const auto& [k, v] : variables.items()) globals[k] = v;
    scopes_.push_back(&globals);
    Exec(body);
  }

 private:
  void AddGlobals(Frame& g) {
    g["namespace"] = Value::Function("namespace", [this](const CallArgs& args) {
      ValueDict attributes;
      for (const Value& p : args.positional) {
        if (!p.is_mapping()) ThrowInvalid("namespace() positional argument must be a dict");
        for (const auto& [k, v] : p.as_dict().items()) attributes.Set(k, v);
      }
      for (const auto& [k, v] : args.keyword) attributes.Set(k, v);
      namespaces_.push_back(Value::Namespace(std::move(attributes)));
      return namespaces_.back();
    });
    g["dict"] = Value::Function("dict", [](const CallArgs& args) {
      ValueDict d;
      for (const auto& [k, v] : args.keyword) d.Set(k, v);
      return Value(std::move(d));
    });
    g["range"] = Value::Function("range", [this](const CallArgs& args) {
      int64_t bounds[3] = {0, 0, 1};
      const size_t n = args.positional.size();
      if (n < 1 || n > 3) ThrowInvalid("range() takes 1 to 3 integer arguments");
      for (size_t i = 0; i < n; ++i) {
        if (args.positional[i].kind() != ValueKind::kInt) ThrowInvalid("range() needs integers");
      }
      if (n == 1) {
        bounds[1] = args.positional[0].as_int();
      } else {
        for (size_t i = 0; i < n; ++i) bounds[i] = args.positional[i].as_int();
      }
      if (bounds[2] == 0) ThrowInvalid("range() step must not be zero");
      ValueList out;
      for (int64_t i = bounds[0]; bounds[2] > 0 ? i < bounds[1] : i > bounds[1]; i += bounds[2]) {
        CountIteration();
        out.emplace_back(i);
      }
      return Value(std::move(out));
    });
    g["raise_exception"] = Value::Function("raise_exception", [](const CallArgs& args) -> Value {
      const std::string message = args.positional.empty() ? "" : args.positional[0].Str();
      throw TemplateError(StatusCode::kInvalidArgument, "raise_exception: " + message);
    });
    g["strftime_now"] = Value::Function("strftime_now", [](const CallArgs& args) {
      if (args.positional.empty() || !args.positional[0].is_string()) {
        ThrowInvalid("strftime_now() needs a format string");
      }
      const std::time_t now = std::time(nullptr);
      std::tm local{};
      localtime_r(&now, &local);
      char buf[256];
      const size_t n =
          std::strftime(buf, sizeof(buf), args.positional[0].as_string().c_str(), &local);
      return Value(std::string(buf, n));
    });
  }

  void CountIteration() {
    if (++iterations_ > limits_.max_loop_iterations) {
      ThrowExhausted("more than " + std::to_string(limits_.max_loop_iterations) +
                     " loop iterations");
    }
  }

  void CheckSize(size_t bytes) const {
    if (bytes > limits_.max_output_bytes) {
      ThrowExhausted("output or string larger than " + std::to_string(limits_.max_output_bytes) +
                     " bytes");
    }
  }

  void Emit(const std::string& s) {
    CheckSize(out_->size() + s.size());
    out_->append(s);
  }

  Value Lookup(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      const auto found = (*it)->find(name);
      if (found != (*it)->end()) return found->second;
    }
    return Value::Undefined("'" + name + "' is undefined");
  }

  void Assign(const std::vector<std::string>& targets, const Value& value, int line) {
    Frame& frame = *scopes_.back();
    if (targets.size() == 1) {
      frame[targets[0]] = value;
      return;
    }
    std::optional<ValueList> items = value.Iterate();
    if (!items || value.is_undefined()) ThrowInvalid("cannot unpack a non-iterable value", line);
    if (items->size() != targets.size()) {
      ThrowInvalid("expected " + std::to_string(targets.size()) + " values to unpack, got " +
                       std::to_string(items->size()),
                   line);
    }
    for (size_t i = 0; i < targets.size(); ++i) frame[targets[i]] = (*items)[i];
  }

  Flow Exec(const StmtList& body) {
    for (const StmtPtr& s : body) {
      try {
        const Flow flow = ExecOne(*s);
        if (flow != Flow::kNormal) return flow;
      } catch (TemplateError& e) {
        if (e.line() == 0) e.set_line(s->line);
        throw;
      }
    }
    return Flow::kNormal;
  }

  Flow ExecOne(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::kText: Emit(s.text); return Flow::kNormal;
      case StmtKind::kOutput: Emit(Eval(*s.expr).Str()); return Flow::kNormal;
      case StmtKind::kIf:
        for (const auto& [cond, branch] : s.branches) {
          if (Eval(*cond).Truthy()) return Exec(branch);
        }
        return Exec(s.else_body);
      case StmtKind::kFor: return ExecFor(s);
      case StmtKind::kSet: {
        Value value = Eval(*s.expr);
        if (s.attribute.empty()) {
          Assign(s.targets, value, s.line);
          return Flow::kNormal;
        }
        const Value ns = Lookup(s.targets[0]);
        if (ns.kind() != ValueKind::kNamespace) {
          ThrowInvalid("cannot assign attribute on non-namespace object '" + s.targets[0] + "'",
                       s.line);
        }
        ns.namespace_dict().Set(s.attribute, std::move(value));
        return Flow::kNormal;
      }
      case StmtKind::kSetBlock:
        Assign(s.targets, Value(Capture(s.body)), s.line);
        return Flow::kNormal;
      case StmtKind::kMacro: (*scopes_.back())[s.text] = MakeMacro(s); return Flow::kNormal;
      case StmtKind::kCallBlock: return ExecCallBlock(s);
      case StmtKind::kBreak: return Flow::kBreak;
      case StmtKind::kContinue: return Flow::kContinue;
      case StmtKind::kScope: {
        Frame frame;
        for (const auto& [name, expr] : s.params) frame[name] = Eval(*expr);
        scopes_.push_back(&frame);
        const Flow flow = Exec(s.body);
        scopes_.pop_back();
        return flow;
      }
    }
    return Flow::kNormal;
  }

  // Runs `body` into a string of its own (block set, macro bodies, caller()).
  std::string Capture(const StmtList& body) {
    std::string captured;
    std::string* saved = std::exchange(out_, &captured);
    try {
      Exec(body);
    } catch (...) {
      out_ = saved;
      throw;
    }
    out_ = saved;
    return captured;
  }

  Flow ExecFor(const Stmt& s) {
    const Value iterable = Eval(*s.expr);
    std::optional<ValueList> items = iterable.Iterate();
    if (!items) {
      ThrowInvalid("'" + std::string(iterable.TypeName()) + "' object is not iterable", s.line);
    }
    if (s.filter) {
      ValueList kept;
      for (const Value& item : *items) {
        CountIteration();
        Frame frame;
        scopes_.push_back(&frame);
        Assign(s.targets, item, s.line);
        const bool keep = Eval(*s.filter).Truthy();
        scopes_.pop_back();
        if (keep) kept.push_back(item);
      }
      items = std::move(kept);
    }
    const auto n = static_cast<int64_t>(items->size());
    for (int64_t i = 0; i < n; ++i) {
      CountIteration();
      Frame frame;
      scopes_.push_back(&frame);
      Assign(s.targets, (*items)[static_cast<size_t>(i)], s.line);
      ValueDict loop;
      loop.Set("index", Value(i + 1));
      loop.Set("index0", Value(i));
      loop.Set("revindex", Value(n - i));
      loop.Set("revindex0", Value(n - i - 1));
      loop.Set("first", Value(i == 0));
      loop.Set("last", Value(i == n - 1));
      loop.Set("length", Value(n));
      loop.Set("depth", Value(int64_t{1}));
      loop.Set("depth0", Value(int64_t{0}));
      loop.Set("previtem", i > 0 ? (*items)[static_cast<size_t>(i - 1)]
                                 : Value::Undefined("there is no previous item"));
      loop.Set("nextitem", i + 1 < n ? (*items)[static_cast<size_t>(i + 1)]
                                     : Value::Undefined("there is no next item"));
      loop.Set("cycle", Value::Function("loop.cycle", [i](const CallArgs& args) {
                 if (args.positional.empty()) ThrowInvalid("loop.cycle() needs arguments");
                 return args.positional[static_cast<size_t>(i) % args.positional.size()];
               }));
      frame["loop"] = Value(std::move(loop));
      const Flow flow = Exec(s.body);
      scopes_.pop_back();
      if (flow == Flow::kBreak) break;
    }
    if (n == 0) return Exec(s.else_body);
    return Flow::kNormal;
  }

  Value MakeMacro(const Stmt& s) {
    const Stmt* macro = &s;
    return Value::Function(s.text, [this, macro](const CallArgs& args) {
      if (++call_depth_ > limits_.max_call_depth) {
        --call_depth_;
        ThrowExhausted("macro calls nested deeper than " + std::to_string(limits_.max_call_depth));
      }
      Frame frame;
      if (args.positional.size() > macro->params.size()) {
        ThrowInvalid("macro '" + macro->text + "' takes " + std::to_string(macro->params.size()) +
                     " arguments");
      }
      for (size_t i = 0; i < macro->params.size(); ++i) {
        const auto& [name, default_expr] = macro->params[i];
        if (i < args.positional.size()) {
          frame[name] = args.positional[i];
        } else if (const Value* v = args.Keyword(name)) {
          frame[name] = *v;
        } else {
          frame[name] =
              default_expr ? Eval(*default_expr) : Value::Undefined("'" + name + "' is undefined");
        }
      }
      if (const Value* caller = args.Keyword("caller")) frame["caller"] = *caller;
      // A macro sees the template's globals and its arguments, not its caller's locals.
      std::vector<Frame*> saved = std::exchange(scopes_, {scopes_.front(), &frame});
      std::string result;
      try {
        result = Capture(macro->body);
      } catch (...) {
        scopes_ = std::move(saved);
        --call_depth_;
        throw;
      }
      scopes_ = std::move(saved);
      --call_depth_;
      return Value(std::move(result));
    });
  }

  Flow ExecCallBlock(const Stmt& s) {
    const StmtList* body = &s.body;
    const std::vector<Frame*> scopes = scopes_;
    Value caller = Value::Function("caller", [this, body, scopes](const CallArgs&) {
      std::vector<Frame*> saved = std::exchange(scopes_, scopes);
      Frame frame;
      scopes_.push_back(&frame);
      std::string text;
      try {
        text = Capture(*body);
      } catch (...) {
        scopes_ = std::move(saved);
        throw;
      }
      scopes_ = std::move(saved);
      return Value(std::move(text));
    });
    const Expr& call = *s.expr;
    const Value callee = Eval(*call.children[0]);
    CallArgs args = EvalArgs(call);
    args.keyword.emplace_back("caller", std::move(caller));
    Emit(CallValue(callee, args).Str());
    return Flow::kNormal;
  }

  CallArgs EvalArgs(const Expr& e) {
    CallArgs args;
    for (size_t i = 1; i < e.children.size(); ++i) args.positional.push_back(Eval(*e.children[i]));
    for (const auto& [name, expr] : e.keywords) args.keyword.emplace_back(name, Eval(*expr));
    return args;
  }

  static Value CallValue(const Value& callee, const CallArgs& args) {
    if (callee.is_undefined()) ThrowUndefined(callee);
    if (callee.kind() != ValueKind::kCallable) {
      ThrowInvalid("'" + std::string(callee.TypeName()) + "' object is not callable");
    }
    return callee.as_callable()(args);
  }

  Value Eval(const Expr& e) {
    try {
      return EvalInner(e);
    } catch (TemplateError& error) {
      if (error.line() == 0) error.set_line(e.line);
      throw;
    }
  }

  Value EvalInner(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kLiteral: return e.literal;
      case ExprKind::kName: return Lookup(e.name);
      case ExprKind::kList: {
        ValueList list;
        for (const ExprPtr& child : e.children) list.push_back(Eval(*child));
        return e.negated ? Value::Tuple(std::move(list)) : Value(std::move(list));
      }
      case ExprKind::kDict: {
        ValueDict dict;
        for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
          const Value key = Eval(*e.children[i]);
          if (!key.is_string()) ThrowUnsupported("dict literal keys must be strings");
          dict.Set(key.as_string(), Eval(*e.children[i + 1]));
        }
        return Value(std::move(dict));
      }
      case ExprKind::kGetAttr: return GetAttribute(Eval(*e.children[0]), e.name);
      case ExprKind::kGetItem: return GetItem(Eval(*e.children[0]), Eval(*e.children[1]));
      case ExprKind::kSlice: {
        const Value object = Eval(*e.children[0]);
        std::optional<Value> bounds[3];
        for (size_t i = 0; i < 3; ++i) {
          if (e.children[i + 1]) bounds[i] = Eval(*e.children[i + 1]);
        }
        const auto ptr = [](const std::optional<Value>& v) { return v ? &*v : nullptr; };
        return Slice(object, ptr(bounds[0]), ptr(bounds[1]), ptr(bounds[2]));
      }
      case ExprKind::kCall: return EvalCall(e);
      case ExprKind::kFilter: {
        const Value subject = Eval(*e.children[0]);
        Value result = ApplyFilter(e.name, subject, EvalArgs(e));
        if (result.is_string()) CheckSize(result.as_string().size());
        return result;
      }
      case ExprKind::kTest: {
        const Value subject = Eval(*e.children[0]);
        return Value(ApplyTest(e.name, subject, EvalArgs(e)) != e.negated);
      }
      case ExprKind::kUnary: {
        const Value v = Eval(*e.children[0]);
        if (v.is_undefined()) ThrowUndefined(v);
        if (v.kind() == ValueKind::kInt) return e.name == "-" ? Value(-v.as_int()) : v;
        if (v.kind() == ValueKind::kBool) {
          const int64_t i = v.as_bool() ? 1 : 0;
          return Value(e.name == "-" ? -i : i);
        }
        if (v.kind() == ValueKind::kFloat) return e.name == "-" ? Value(-v.as_float()) : v;
        ThrowInvalid("bad operand type for unary " + e.name + ": '" + std::string(v.TypeName()) +
                     "'");
      }
      case ExprKind::kNot: return Value(!Eval(*e.children[0]).Truthy());
      case ExprKind::kAnd: {
        Value left = Eval(*e.children[0]);
        return left.Truthy() ? Eval(*e.children[1]) : left;
      }
      case ExprKind::kOr: {
        Value left = Eval(*e.children[0]);
        return left.Truthy() ? left : Eval(*e.children[1]);
      }
      case ExprKind::kCondition:
        if (Eval(*e.children[1]).Truthy()) return Eval(*e.children[0]);
        if (e.children[2]) return Eval(*e.children[2]);
        return Value::Undefined("the inline if-expression on line " + std::to_string(e.line) +
                                " evaluated to false and no else section was defined");
      case ExprKind::kBinary: return EvalBinary(e.name, Eval(*e.children[0]), Eval(*e.children[1]));
      case ExprKind::kCompare: {
        Value left = Eval(*e.children[0]);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          Value right = Eval(*e.children[i + 1]);
          if (!Compare(e.ops[i], left, right)) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
    }
    ThrowInvalid("unknown expression");
  }

  Value EvalCall(const Expr& e) {
    const Expr& callee_expr = *e.children[0];
    if (callee_expr.kind == ExprKind::kGetAttr) {
      const Value object = Eval(*callee_expr.children[0]);
      if (object.is_undefined()) ThrowUndefined(object);
      CallArgs args = EvalArgs(e);
      if (std::optional<Value> result = CallMethod(object, callee_expr.name, args)) {
        if (result->is_string()) CheckSize(result->as_string().size());
        return std::move(*result);
      }
      const Value method = GetAttribute(object, callee_expr.name);
      if (method.is_undefined()) {
        ThrowUnsupported("'" + std::string(object.TypeName()) + "' object has no method '" +
                         callee_expr.name + "' this interpreter supports");
      }
      return CallValue(method, args);
    }
    const Value callee = Eval(callee_expr);
    return CallValue(callee, EvalArgs(e));
  }

  static bool Compare(const std::string& op, const Value& a, const Value& b) {
    if (op == "==") return Equals(a, b);
    if (op == "!=") return !Equals(a, b);
    if (op == "in" || op == "not in") {
      bool found = false;
      if (b.is_string()) {
        if (a.is_undefined()) ThrowUndefined(a);
        if (!a.is_string()) ThrowInvalid("'in <string>' requires string as left operand");
        found = b.as_string().find(a.as_string()) != std::string::npos;
      } else if (b.is_mapping() || b.kind() == ValueKind::kNamespace) {
        found = a.is_string() && b.as_dict().Find(a.as_string()) != nullptr;
      } else {
        std::optional<ValueList> items = b.Iterate();
        if (!items) {
          ThrowInvalid("argument of type '" + std::string(b.TypeName()) + "' is not iterable");
        }
        for (const Value& item : *items) found = found || Equals(item, a);
      }
      return op == "in" ? found : !found;
    }
    if (a.is_undefined()) ThrowUndefined(a);
    if (b.is_undefined()) ThrowUndefined(b);
    const std::optional<bool> less = op[0] == '<' ? Less(a, b) : Less(b, a);
    if (!less) {
      ThrowInvalid("'" + op + "' not supported between instances of '" + std::string(a.TypeName()) +
                   "' and '" + std::string(b.TypeName()) + "'");
    }
    return *less || (op.size() == 2 && Equals(a, b));
  }

  Value EvalBinary(const std::string& op, const Value& a, const Value& b) {
    if (op == "~") {
      std::string s = a.Str() + b.Str();
      CheckSize(s.size());
      return Value(std::move(s));
    }
    if (a.is_undefined()) ThrowUndefined(a);
    if (b.is_undefined()) ThrowUndefined(b);
    const auto numeric = [](const Value& v) {
      return v.is_number() || v.kind() == ValueKind::kBool;
    };
    const auto as_int = [](const Value& v) {
      return v.kind() == ValueKind::kBool ? static_cast<int64_t>(v.as_bool()) : v.as_int();
    };
    if (numeric(a) && numeric(b)) {
      const bool ints = a.kind() != ValueKind::kFloat && b.kind() != ValueKind::kFloat;
      if (ints) return IntArithmetic(op, as_int(a), as_int(b));
      return FloatArithmetic(op, a.as_float(), b.as_float());
    }
    if (op == "+" && a.is_string() && b.is_string()) {
      CheckSize(a.as_string().size() + b.as_string().size());
      return Value(a.as_string() + b.as_string());
    }
    if (op == "+" && a.is_list() && b.is_list()) {
      ValueList out = a.as_list();
      out.insert(out.end(), b.as_list().begin(), b.as_list().end());
      return Value(std::move(out));
    }
    if (op == "*" && (a.is_string() || a.is_list()) && b.kind() == ValueKind::kInt) {
      return Repeat(a, b.as_int());
    }
    if (op == "*" && (b.is_string() || b.is_list()) && a.kind() == ValueKind::kInt) {
      return Repeat(b, a.as_int());
    }
    if (op == "%" && a.is_string()) ThrowUnsupported("printf-style '%' string formatting");
    ThrowInvalid("unsupported operand type(s) for " + op + ": '" + std::string(a.TypeName()) +
                 "' and '" + std::string(b.TypeName()) + "'");
  }

  Value Repeat(const Value& v, int64_t times) {
    if (times <= 0) return v.is_string() ? Value(std::string()) : Value(ValueList{});
    const size_t unit = v.is_string() ? v.as_string().size() : v.as_list().size() * 16;
    if (unit != 0 && static_cast<uint64_t>(times) > limits_.max_output_bytes / unit) {
      CheckSize(limits_.max_output_bytes + 1);
    }
    if (v.is_string()) {
      std::string out;
      for (int64_t i = 0; i < times; ++i) out += v.as_string();
      return Value(std::move(out));
    }
    ValueList out;
    for (int64_t i = 0; i < times; ++i)
      out.insert(out.end(), v.as_list().begin(), v.as_list().end());
    return Value(std::move(out));
  }

  static Value IntArithmetic(const std::string& op, int64_t x, int64_t y) {
    int64_t r = 0;
    bool overflow = false;
    if (op == "+") {
      overflow = __builtin_add_overflow(x, y, &r);
    } else if (op == "-") {
      overflow = __builtin_sub_overflow(x, y, &r);
    } else if (op == "*") {
      overflow = __builtin_mul_overflow(x, y, &r);
    } else if (op == "/") {
      if (y == 0) ThrowInvalid("division by zero");
      return Value(static_cast<double>(x) / static_cast<double>(y));
    } else if (op == "//" || op == "%") {
      if (y == 0) ThrowInvalid("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) ThrowUnsupported("integer overflow");
      int64_t q = x / y;
      int64_t m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --q;
        m += y;
      }
      return Value(op == "//" ? q : m);
    } else if (op == "**") {
      if (y < 0) return Value(std::pow(static_cast<double>(x), static_cast<double>(y)));
      r = 1;
      for (int64_t i = 0; i < y && !overflow; ++i) overflow = __builtin_mul_overflow(r, x, &r);
    }
    if (overflow)
      ThrowUnsupported("integer overflow (Python integers are unbounded, ours are 64-bit)");
    return Value(r);
  }

  static Value FloatArithmetic(const std::string& op, double x, double y) {
    if (op == "+") return Value(x + y);
    if (op == "-") return Value(x - y);
    if (op == "*") return Value(x * y);
    if (op == "**") return Value(std::pow(x, y));
    if (y == 0.0) ThrowInvalid("float division by zero");
    if (op == "/") return Value(x / y);
    if (op == "//") return Value(std::floor(x / y));
    double m = std::fmod(x, y);
    if (m != 0.0 && ((m < 0) != (y < 0))) m += y;
    return Value(m);
  }

  const RenderLimits& limits_;
  std::string* out_;
  std::vector<Frame*> scopes_;
  int64_t iterations_ = 0;
  int call_depth_ = 0;
  std::vector<Value> namespaces_;  // every namespace() result, emptied by the destructor
};

}  // namespace

std::string RenderTree(const StmtList& body, const ValueDict& variables,
                       const RenderLimits& limits) {
  std::string out;
  Interpreter interpreter(limits, &out);
  interpreter.Run(body, variables);
  return out;
}

}  // namespace dsinfer::tokenizer::jinja
