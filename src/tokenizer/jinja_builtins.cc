// Jinja2's filters (jinja2/filters.py) and tests (jinja2/tests.py) with Python semantics.
#include "tokenizer/jinja_builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_strings.h"

namespace dsinfer::tokenizer::jinja {
namespace {

constexpr std::string_view kFilters[] = {
    "abs",    "capitalize", "count",  "d",          "default", "dictsort",   "e",       "escape",
    "first",  "float",      "int",    "items",      "join",    "last",       "length",  "list",
    "lower",  "map",        "max",    "min",        "reject",  "rejectattr", "replace", "reverse",
    "round",  "safe",       "select", "selectattr", "sort",    "string",     "sum",     "title",
    "tojson", "trim",       "unique", "upper"};
constexpr std::string_view kUnsupportedFilters[] = {
    "attr",     "batch",     "center", "filesizeformat", "forceescape", "format",
    "groupby",  "indent",    "pprint", "random",         "slice",       "striptags",
    "truncate", "urlencode", "urlize", "wordcount",      "wordwrap",    "xmlattr"};
constexpr std::string_view kTests[] = {
    "boolean",  "callable", "defined",  "divisibleby", "eq",   "equalto",  "==",    "escaped",
    "even",     "false",    "float",    "ge",          ">=",   "gt",       ">",     "greaterthan",
    "in",       "integer",  "iterable", "le",          "<=",   "lessthan", "lower", "lt",
    "<",        "mapping",  "ne",       "!=",          "none", "number",   "odd",   "sameas",
    "sequence", "string",   "true",     "undefined",   "upper"};
constexpr std::string_view kUnsupportedTests[] = {"filter", "test"};

template <size_t N>
bool Contains(const std::string_view (&list)[N], std::string_view name) {
  return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

// By value: callers pass temporaries as the fallback.
Value Arg(const CallArgs& args, size_t index, std::string_view keyword, const Value& fallback) {
  if (index < args.positional.size()) return args.positional[index];
  if (const Value* v = args.Keyword(keyword)) return *v;
  return fallback;
}

const std::string& ExpectString(const Value& v, std::string_view what) {
  if (v.is_undefined()) ThrowUndefined(v);
  if (!v.is_string()) {
    ThrowInvalid(std::string(what) + " expects a string, got " + std::string(v.TypeName()));
  }
  return v.as_string();
}

ValueList ExpectIterable(const Value& v, std::string_view what) {
  std::optional<ValueList> items = v.Iterate();
  if (!items) {
    ThrowInvalid(std::string(what) + ": '" + std::string(v.TypeName()) +
                 "' object is not iterable");
  }
  return std::move(*items);
}

int64_t Length(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return 0;
    case ValueKind::kString: return static_cast<int64_t>(CountCodePoints(v.as_string()));
    case ValueKind::kList: return static_cast<int64_t>(v.as_list().size());
    case ValueKind::kDict: return static_cast<int64_t>(v.as_dict().size());
    default: ThrowInvalid("object of type '" + std::string(v.TypeName()) + "' has no len()");
  }
}

// Jinja's attribute paths for map/selectattr/sort: "a.b.0".
Value GetAttributePath(const Value& item, const std::string& path) {
  Value v = item;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = std::min(path.find('.', start), path.size());
    const std::string part = path.substr(start, dot - start);
    const bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    v = numeric ? GetItem(v, Value(static_cast<int64_t>(std::atoll(part.c_str()))))
                : GetAttribute(v, part);
    start = dot + 1;
  }
  return v;
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// select/reject/selectattr/rejectattr: args are (test name, test args...) after the
// attribute for the *attr forms.
Value SelectOrReject(const Value& subject, const CallArgs& args, bool select, bool by_attr) {
  ValueList items = ExpectIterable(subject, select ? "select" : "reject");
  size_t next = 0;
  std::string attribute;
  if (by_attr) {
    if (args.positional.empty()) ThrowInvalid("selectattr/rejectattr need an attribute name");
    attribute = ExpectString(args.positional[next++], "selectattr");
  }
  std::string test;
  if (next < args.positional.size()) test = ExpectString(args.positional[next++], "test name");
  CallArgs test_args;
  for (size_t i = next; i < args.positional.size(); ++i) {
    test_args.positional.push_back(args.positional[i]);
  }
  if (!test.empty() && TestSupport(test) != BuiltinSupport::kSupported) {
    ThrowInvalid("no test named '" + test + "'");
  }
  ValueList out;
  for (const Value& item : items) {
    const Value v = by_attr ? GetAttributePath(item, attribute) : item;
    const bool pass = test.empty() ? v.Truthy() : ApplyTest(test, v, test_args);
    if (pass == select) out.push_back(item);
  }
  return Value(std::move(out));
}

Value MapFilter(const Value& subject, const CallArgs& args) {
  ValueList items = ExpectIterable(subject, "map");
  ValueList out;
  if (const Value* attribute = args.Keyword("attribute")) {
    const std::string path = attribute->is_string() ? attribute->as_string() : attribute->Str();
    const Value* fallback = args.Keyword("default");
    for (const Value& item : items) {
      Value v = GetAttributePath(item, path);
      if (v.is_undefined() && fallback != nullptr) v = *fallback;
      out.push_back(std::move(v));
    }
    return Value(std::move(out));
  }
  if (args.positional.empty()) ThrowInvalid("map needs a filter name or attribute=");
  const std::string& filter = ExpectString(args.positional[0], "map");
  if (FilterSupport(filter) != BuiltinSupport::kSupported) {
    ThrowInvalid("no filter named '" + filter + "'");
  }
  CallArgs filter_args;
  filter_args.positional.assign(args.positional.begin() + 1, args.positional.end());
  filter_args.keyword = args.keyword;
  for (const Value& item : items) out.push_back(ApplyFilter(filter, item, filter_args));
  return Value(std::move(out));
}

Value SortFilter(const Value& subject, const CallArgs& args) {
  ValueList items = ExpectIterable(subject, "sort");
  const bool reverse = Arg(args, 0, "reverse", Value(false)).Truthy();
  const bool case_sensitive = Arg(args, 1, "case_sensitive", Value(false)).Truthy();
  const Value attribute = Arg(args, 2, "attribute", Value::None());
  const auto key = [&](const Value& v) {
    Value k = attribute.is_string() ? GetAttributePath(v, attribute.as_string()) : v;
    if (!case_sensitive && k.is_string()) k = Value(AsciiLower(k.as_string()));
    return k;
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    const std::optional<bool> less = reverse ? Less(key(b), key(a)) : Less(key(a), key(b));
    if (!less) ThrowInvalid("sort: values of different types cannot be ordered");
    return *less;
  });
  return Value(std::move(items));
}

Value ToJsonFilter(const Value& subject, const CallArgs& args) {
  JsonDumpOptions options;
  const Value indent = Arg(args, 1, "indent", Value::None());
  if (indent.kind() == ValueKind::kInt) options.indent = static_cast<int>(indent.as_int());
  if (!indent.is_none() && !indent.is_undefined() && indent.kind() != ValueKind::kInt) {
    ThrowUnsupported("tojson: indent must be an integer");
  }
  const Value separators = Arg(args, 2, "separators", Value::None());
  if (separators.is_list() && separators.as_list().size() == 2) {
    options.separators = {separators.as_list()[0].Str(), separators.as_list()[1].Str()};
  }
  options.sort_keys = Arg(args, 3, "sort_keys", Value(false)).Truthy();
  if (Arg(args, 0, "ensure_ascii", Value(false)).Truthy()) {
    ThrowUnsupported("tojson: ensure_ascii=True is not supported");
  }
  std::optional<std::string> json = DumpJson(subject, options);
  if (!json) {
    if (subject.is_undefined()) ThrowUndefined(subject);
    ThrowInvalid("tojson: object of type '" + std::string(subject.TypeName()) +
                 "' (or one inside it) is not JSON serializable");
  }
  return Value(std::move(*json));
}

Value MinMax(const Value& subject, bool max) {
  ValueList items = ExpectIterable(subject, max ? "max" : "min");
  if (items.empty()) return Value::Undefined("no items for min/max");
  Value best = items[0];
  for (size_t i = 1; i < items.size(); ++i) {
    const std::optional<bool> less = max ? Less(best, items[i]) : Less(items[i], best);
    if (!less) ThrowInvalid("min/max: values of different types cannot be ordered");
    if (*less) best = items[i];
  }
  return best;
}

}  // namespace

BuiltinSupport FilterSupport(std::string_view name) {
  if (Contains(kFilters, name)) return BuiltinSupport::kSupported;
  if (Contains(kUnsupportedFilters, name)) return BuiltinSupport::kUnsupported;
  return BuiltinSupport::kUnknown;
}

BuiltinSupport TestSupport(std::string_view name) {
  if (Contains(kTests, name)) return BuiltinSupport::kSupported;
  if (Contains(kUnsupportedTests, name)) return BuiltinSupport::kUnsupported;
  return BuiltinSupport::kUnknown;
}

void ThrowUndefined(const Value& value) {
  ThrowInvalid(value.name().empty() ? "undefined value used" : value.name());
}

Value ApplyFilter(std::string_view name, const Value& subject, const CallArgs& args) {
  const Value none = Value::None();
  if (name == "default" || name == "d") {
    const bool boolean = Arg(args, 1, "boolean", Value(false)).Truthy();
    const bool use_default = subject.is_undefined() || (boolean && !subject.Truthy());
    return use_default ? Arg(args, 0, "default_value", Value(std::string())) : subject;
  }
  if (name == "safe") return subject;
  if (name == "string") return Value(subject.Str());
  if (name == "length" || name == "count") return Value(Length(subject));
  if (name == "tojson") return ToJsonFilter(subject, args);
  if (name == "items") {
    if (subject.is_undefined()) return Value(ValueList{});
    if (!subject.is_mapping()) ThrowInvalid("items: expected a mapping");
    ValueList out;
    for (const auto& [k, v] : subject.as_dict().items()) {
      out.push_back(Value::Tuple(ValueList{Value(k), v}));
    }
    return Value(std::move(out));
  }
  if (name == "list") return Value(ExpectIterable(subject, "list"));
  if (name == "first" || name == "last") {
    ValueList items = ExpectIterable(subject, name);
    if (items.empty())
      return Value::Undefined("no " + std::string(name) + " item, sequence was empty");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "reverse") {
    if (subject.is_string()) {
      std::vector<std::string> cps = SplitCodePoints(subject.as_string());
      std::string out;
      for (auto it = cps.rbegin(); it != cps.rend(); ++it) out += *it;
      return Value(std::move(out));
    }
    ValueList items = ExpectIterable(subject, "reverse");
    std::reverse(items.begin(), items.end());
    return Value(std::move(items));
  }
  if (name == "join") {
    const Value sep = Arg(args, 0, "d", Value(std::string()));
    const Value attribute = Arg(args, 1, "attribute", none);
    std::string out;
    bool first = true;
    for (const Value& item : ExpectIterable(subject, "join")) {
      if (!first) out += sep.Str();
      first = false;
      out += (attribute.is_string() ? GetAttributePath(item, attribute.as_string()) : item).Str();
    }
    return Value(std::move(out));
  }
  if (name == "map") return MapFilter(subject, args);
  if (name == "select" || name == "reject")
    return SelectOrReject(subject, args, name == "select", false);
  if (name == "selectattr" || name == "rejectattr") {
    return SelectOrReject(subject, args, name == "selectattr", true);
  }
  if (name == "sort") return SortFilter(subject, args);
  if (name == "dictsort") {
    if (!subject.is_mapping()) ThrowInvalid("dictsort: expected a mapping");
    ValueList pairs;
    for (const auto& [k, v] : subject.as_dict().items()) {
      pairs.push_back(Value::Tuple(ValueList{Value(k), v}));
    }
    std::stable_sort(pairs.begin(), pairs.end(), [](const Value& a, const Value& b) {
      return AsciiLower(a.as_list()[0].as_string()) < AsciiLower(b.as_list()[0].as_string());
    });
    return Value(std::move(pairs));
  }
  if (name == "unique") {
    ValueList out;
    for (const Value& item : ExpectIterable(subject, "unique")) {
      const bool seen = std::any_of(out.begin(), out.end(), [&](const Value& o) {
        if (o.is_string() && item.is_string()) {
          return AsciiLower(o.as_string()) == AsciiLower(item.as_string());
        }
        return Equals(o, item);
      });
      if (!seen) out.push_back(item);
    }
    return Value(std::move(out));
  }
  if (name == "max" || name == "min") return MinMax(subject, name == "max");
  if (name == "sum") {
    Value total = Arg(args, 1, "start", Value(int64_t{0}));
    for (const Value& item : ExpectIterable(subject, "sum")) {
      if (!item.is_number() || !total.is_number()) ThrowInvalid("sum: items must be numbers");
      if (item.kind() == ValueKind::kInt && total.kind() == ValueKind::kInt) {
        total = Value(total.as_int() + item.as_int());
      } else {
        total = Value(total.as_float() + item.as_float());
      }
    }
    return total;
  }
  if (name == "abs") {
    if (subject.kind() == ValueKind::kInt)
      return Value(static_cast<int64_t>(std::llabs(subject.as_int())));
    if (subject.is_number()) return Value(std::fabs(subject.as_float()));
    ThrowInvalid("abs: expected a number");
  }
  if (name == "int") {
    Value fallback = Arg(args, 0, "default", Value(int64_t{0}));
    if (subject.kind() == ValueKind::kInt) return subject;
    if (subject.kind() == ValueKind::kBool) return Value(static_cast<int64_t>(subject.as_bool()));
    if (subject.kind() == ValueKind::kFloat) {
      const double d = subject.as_float();
      if (!std::isfinite(d)) return fallback;
      return Value(static_cast<int64_t>(d));
    }
    if (subject.is_string()) {
      const std::string s = PyStrip(subject.as_string(), std::nullopt, true, true);
      char* end = nullptr;
      const long long v = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && end == s.c_str() + s.size()) return Value(static_cast<int64_t>(v));
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d)) {
        return Value(static_cast<int64_t>(d));
      }
    }
    return fallback;
  }
  if (name == "float") {
    if (subject.is_number() || subject.kind() == ValueKind::kBool) return Value(subject.as_float());
    if (subject.is_string()) {
      const std::string s = PyStrip(subject.as_string(), std::nullopt, true, true);
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size()) return Value(d);
    }
    return Arg(args, 0, "default", Value(0.0));
  }
  if (name == "round") {
    const Value precision = Arg(args, 0, "precision", Value(int64_t{0}));
    const Value method = Arg(args, 1, "method", Value("common"));
    if (!subject.is_number()) ThrowInvalid("round: expected a number");
    const double scale = std::pow(10.0, precision.is_number() ? precision.as_float() : 0.0);
    double x = subject.as_float() * scale;
    const std::string m = method.Str();
    x = m == "ceil" ? std::ceil(x) : m == "floor" ? std::floor(x) : std::round(x);
    return Value(x / scale);
  }
  // The rest work on the string form of the value.
  if (subject.is_undefined() && name != "escape" && name != "e") ThrowUndefined(subject);
  const std::string s = subject.Str();
  if (name == "trim") {
    const Value chars = Arg(args, 0, "chars", none);
    return Value(PyStrip(s, chars.is_string() ? std::optional(chars.as_string()) : std::nullopt,
                         true, true));
  }
  if (name == "upper") return Value(AsciiUpper(s));
  if (name == "lower") return Value(AsciiLower(s));
  if (name == "capitalize") return Value(PyCapitalize(s));
  if (name == "title") return Value(JinjaTitle(s));
  if (name == "escape" || name == "e") return Value(HtmlEscape(s));
  if (name == "replace") {
    if (args.positional.size() < 2) ThrowInvalid("replace needs (old, new)");
    const Value count = Arg(args, 2, "count", none);
    return Value(PyReplace(s, args.positional[0].Str(), args.positional[1].Str(),
                           count.kind() == ValueKind::kInt ? count.as_int() : -1));
  }
  ThrowUnsupported("the '" + std::string(name) + "' filter is not supported");
}

bool ApplyTest(std::string_view name, const Value& subject, const CallArgs& args) {
  const Value undefined;
  const Value arg = Arg(args, 0, "other", undefined);
  const auto compare = [&](bool less, bool or_equal) {
    if (subject.is_undefined()) ThrowUndefined(subject);
    if (or_equal && Equals(subject, arg)) return true;
    const std::optional<bool> r = less ? Less(subject, arg) : Less(arg, subject);
    if (!r) ThrowInvalid("test '" + std::string(name) + "': values cannot be ordered");
    return *r;
  };
  const ValueKind k = subject.kind();
  if (name == "defined") return k != ValueKind::kUndefined;
  if (name == "undefined") return k == ValueKind::kUndefined;
  if (name == "none") return k == ValueKind::kNone;
  if (name == "boolean") return k == ValueKind::kBool;
  if (name == "true") return k == ValueKind::kBool && subject.as_bool();
  if (name == "false") return k == ValueKind::kBool && !subject.as_bool();
  if (name == "integer") return k == ValueKind::kInt;
  if (name == "float") return k == ValueKind::kFloat;
  if (name == "number")
    return k == ValueKind::kInt || k == ValueKind::kFloat || k == ValueKind::kBool;
  if (name == "string") return k == ValueKind::kString;
  if (name == "mapping") return k == ValueKind::kDict;
  if (name == "iterable") {
    return k == ValueKind::kString || k == ValueKind::kList || k == ValueKind::kDict ||
           k == ValueKind::kUndefined;
  }
  if (name == "sequence") {
    return k == ValueKind::kString || k == ValueKind::kList || k == ValueKind::kDict;
  }
  if (name == "callable") return k == ValueKind::kCallable;
  if (name == "escaped") return false;
  if (name == "lower")
    return subject.is_string() && AsciiLower(subject.as_string()) == subject.as_string();
  if (name == "upper")
    return subject.is_string() && AsciiUpper(subject.as_string()) == subject.as_string();
  if (name == "eq" || name == "equalto" || name == "==") return Equals(subject, arg);
  if (name == "ne" || name == "!=") return !Equals(subject, arg);
  if (name == "sameas") {
    if (k != arg.kind()) return false;
    return k == ValueKind::kNone || k == ValueKind::kUndefined || Equals(subject, arg);
  }
  if (name == "lt" || name == "<" || name == "lessthan") return compare(true, false);
  if (name == "le" || name == "<=") return compare(true, true);
  if (name == "gt" || name == ">" || name == "greaterthan") return compare(false, false);
  if (name == "ge" || name == ">=") return compare(false, true);
  if (name == "in") {
    if (arg.is_string() && subject.is_string()) {
      return arg.as_string().find(subject.as_string()) != std::string::npos;
    }
    if (arg.is_mapping()) return subject.is_string() && arg.as_dict().Find(subject.as_string());
    for (const Value& item : ExpectIterable(arg, "in")) {
      if (Equals(item, subject)) return true;
    }
    return false;
  }
  if (name == "even" || name == "odd" || name == "divisibleby") {
    if (k != ValueKind::kInt) ThrowInvalid("test '" + std::string(name) + "' expects an integer");
    if (name == "divisibleby") {
      if (arg.kind() != ValueKind::kInt || arg.as_int() == 0) {
        ThrowInvalid("divisibleby expects a non-zero integer");
      }
      return subject.as_int() % arg.as_int() == 0;
    }
    return (subject.as_int() % 2 == 0) == (name == "even");
  }
  ThrowUnsupported("the '" + std::string(name) + "' test is not supported");
}

}  // namespace dsinfer::tokenizer::jinja
