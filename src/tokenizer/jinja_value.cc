// Python semantics for jinja::Value: truthiness, str/repr, equality, ordering, json.dumps.
#include "tokenizer/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

#include "tokenizer/jinja_error.h"

namespace dsinfer::tokenizer::jinja {

const Value* ValueDict::Find(std::string_view key) const {
  for (const auto& [k, v] : items_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void ValueDict::Set(std::string key, Value value) {
  for (auto& [k, v] : items_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  items_.emplace_back(std::move(key), std::move(value));
}

const Value* CallArgs::Keyword(std::string_view name) const {
  for (const auto& [k, v] : keyword) {
    if (k == name) return &v;
  }
  return nullptr;
}

Value Value::Undefined(std::string name) {
  Value v;
  v.name_ = std::move(name);
  return v;
}

Value Value::None() {
  Value v;
  v.kind_ = ValueKind::kNone;
  return v;
}

Value::Value(bool b) : kind_(ValueKind::kBool), data_(b) {}
Value::Value(int64_t i) : kind_(ValueKind::kInt), data_(i) {}
Value::Value(double d) : kind_(ValueKind::kFloat), data_(d) {}
Value::Value(std::string s) : kind_(ValueKind::kString), data_(std::move(s)) {}
namespace {

// 1 + the deepest of `values`, or a TemplateError past kMaxValueNesting.
template <typename Range, typename Project>
int NestingOf(const Range& values, Project nesting) {
  int deepest = 0;
  for (const auto& v : values) deepest = std::max(deepest, nesting(v));
  if (deepest >= kMaxValueNesting) {
    throw TemplateError(StatusCode::kResourceExhausted,
                        "values nested deeper than " + std::to_string(kMaxValueNesting));
  }
  return deepest + 1;
}

}  // namespace

Value::Value(ValueList list)
    : kind_(ValueKind::kList),
      data_(std::make_shared<ValueList>(std::move(list))),
      nesting_(NestingOf(as_list(), [](const Value& v) { return v.nesting_; })) {}
Value::Value(ValueDict dict)
    : kind_(ValueKind::kDict),
      data_(std::make_shared<ValueDict>(std::move(dict))),
      nesting_(
          NestingOf(as_dict().items(), [](const auto& item) { return item.second.nesting_; })) {}

Value Value::Tuple(ValueList items) {
  Value v(std::move(items));
  v.is_tuple_ = true;
  return v;
}

Value Value::Namespace(ValueDict attributes) {
  Value v(std::move(attributes));
  v.kind_ = ValueKind::kNamespace;
  v.nesting_ = 1;  // it may grow later; see the header
  return v;
}

Value Value::Function(std::string name, Callable fn) {
  Value v;
  v.kind_ = ValueKind::kCallable;
  v.data_ = std::make_shared<Callable>(std::move(fn));
  v.name_ = std::move(name);
  return v;
}

Value Value::FromJson(const nlohmann::ordered_json& json) {
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null: return None();
    case nlohmann::ordered_json::value_t::boolean: return Value(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const auto u = json.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value(json.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      ValueList list;
      list.reserve(json.size());
      for (const auto& item : json) list.push_back(FromJson(item));
      return Value(std::move(list));
    }
    case nlohmann::ordered_json::value_t::object: {
      ValueDict dict;
      for (const auto& [key, item] : json.items()) dict.Set(key, FromJson(item));
      return Value(std::move(dict));
    }
    default: return None();  // binary and discarded values do not come from JSON text
  }
}

double Value::as_float() const {
  switch (kind_) {
    case ValueKind::kBool: return as_bool() ? 1.0 : 0.0;
    case ValueKind::kInt: return static_cast<double>(as_int());
    default: return std::get<double>(data_);
  }
}

bool Value::Truthy() const {
  switch (kind_) {
    case ValueKind::kUndefined:
    case ValueKind::kNone: return false;
    case ValueKind::kBool: return as_bool();
    case ValueKind::kInt: return as_int() != 0;
    case ValueKind::kFloat: return as_float() != 0.0;
    case ValueKind::kString: return !as_string().empty();
    case ValueKind::kList: return !as_list().empty();
    case ValueKind::kDict: return as_dict().size() != 0;
    case ValueKind::kNamespace:
    case ValueKind::kCallable: return true;
  }
  return false;
}

std::string_view Value::TypeName() const {
  switch (kind_) {
    case ValueKind::kUndefined: return "undefined";
    case ValueKind::kNone: return "NoneType";
    case ValueKind::kBool: return "bool";
    case ValueKind::kInt: return "int";
    case ValueKind::kFloat: return "float";
    case ValueKind::kString: return "str";
    case ValueKind::kList: return "list";
    case ValueKind::kDict: return "dict";
    case ValueKind::kNamespace: return "Namespace";
    case ValueKind::kCallable: return "function";
  }
  return "?";
}

std::string FormatPythonFloat(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  // Shortest round-trip digits in scientific form, then laid out as Python's repr does.
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  if (ec != std::errc()) return "nan";
  const std::string sci(buf, end);
  const size_t e_pos = sci.find('e');
  std::string mantissa = sci.substr(0, e_pos);
  const int exponent = std::atoi(sci.c_str() + e_pos + 1);
  const bool negative = mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0." + std::string(static_cast<size_t>(-(exponent + 1)), '0') + digits;
    } else {
      const size_t int_len = static_cast<size_t>(exponent) + 1;
      if (digits.size() <= int_len) {
        out += digits + std::string(int_len - digits.size(), '0') + ".0";
      } else {
        out += digits.substr(0, int_len) + "." + digits.substr(int_len);
      }
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + exp_buf;
}

namespace {

std::string PythonStringRepr(const std::string& s) {
  const bool use_double = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  const char quote = use_double ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + quote;
}

std::string JoinRepr(const ValueList& list) {
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ", ";
    out += list[i].Repr();
  }
  return out + "]";
}

std::string DictRepr(const ValueDict& dict) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : dict.items()) {
    if (!first) out += ", ";
    first = false;
    out += PythonStringRepr(k) + ": " + v.Repr();
  }
  return out + "}";
}

}  // namespace

std::string Value::Str() const {
  switch (kind_) {
    case ValueKind::kUndefined: return "";
    case ValueKind::kString: return as_string();
    default: return Repr();
  }
}

std::string Value::Repr() const {
  switch (kind_) {
    case ValueKind::kUndefined: return "";
    case ValueKind::kNone: return "None";
    case ValueKind::kBool: return as_bool() ? "True" : "False";
    case ValueKind::kInt: return std::to_string(as_int());
    case ValueKind::kFloat: return FormatPythonFloat(as_float());
    case ValueKind::kString: return PythonStringRepr(as_string());
    case ValueKind::kList: {
      if (!is_tuple_) return JoinRepr(as_list());
      const std::string items = JoinRepr(as_list());
      return "(" + items.substr(1, items.size() - 2) + (as_list().size() == 1 ? ",)" : ")");
    }
    case ValueKind::kDict: return DictRepr(as_dict());
    case ValueKind::kNamespace: {
      // Namespaces are the only mutable values, so only they can hold themselves (ns.self =
      // ns) or chain without bound: Python's repr prints a dict already being printed as
      // "{...}", and a chain deeper than any list may be is refused.
      thread_local std::vector<const ValueDict*> printing;
      const ValueDict* dict = &as_dict();
      if (std::find(printing.begin(), printing.end(), dict) != printing.end()) {
        return "<Namespace {...}>";
      }
      if (printing.size() >= static_cast<size_t>(kMaxValueNesting)) {
        throw TemplateError(StatusCode::kResourceExhausted,
                            "namespaces nested deeper than " + std::to_string(kMaxValueNesting));
      }
      printing.push_back(dict);
      std::string repr;
      try {
        repr = DictRepr(*dict);
      } catch (...) {
        printing.pop_back();
        throw;
      }
      printing.pop_back();
      return "<Namespace " + repr + ">";
    }
    case ValueKind::kCallable: return "<function " + name_ + ">";
  }
  return "";
}

std::optional<ValueList> Value::Iterate() const {
  switch (kind_) {
    case ValueKind::kUndefined: return ValueList{};
    case ValueKind::kList: return as_list();
    case ValueKind::kDict: {
      ValueList keys;
      for (const auto& [k, v] : as_dict().items()) keys.emplace_back(k);
      return keys;
    }
    case ValueKind::kString: {
      ValueList chars;
      for (std::string& c : SplitCodePoints(as_string())) chars.emplace_back(std::move(c));
      return chars;
    }
    default: return std::nullopt;
  }
}

bool Equals(const Value& a, const Value& b) {
  const auto numeric = [](const Value& v) { return v.kind() == ValueKind::kBool || v.is_number(); };
  if (numeric(a) && numeric(b)) {
    if (a.kind() != ValueKind::kFloat && b.kind() != ValueKind::kFloat) {
      const auto as_i = [](const Value& v) {
        return v.kind() == ValueKind::kBool ? static_cast<int64_t>(v.as_bool()) : v.as_int();
      };
      return as_i(a) == as_i(b);
    }
    return a.as_float() == b.as_float();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::kUndefined:
    case ValueKind::kNone: return true;
    case ValueKind::kString: return a.as_string() == b.as_string();
    case ValueKind::kList: {
      if (a.is_tuple() != b.is_tuple()) return false;
      const ValueList& x = a.as_list();
      const ValueList& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!Equals(x[i], y[i])) return false;
      }
      return true;
    }
    case ValueKind::kDict: {
      const ValueDict& x = a.as_dict();
      const ValueDict& y = b.as_dict();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.items()) {
        const Value* other = y.Find(k);
        if (other == nullptr || !Equals(v, *other)) return false;
      }
      return true;
    }
    case ValueKind::kNamespace: return &a.as_dict() == &b.as_dict();
    default: return false;
  }
}

std::optional<bool> Less(const Value& a, const Value& b) {
  const auto numeric = [](const Value& v) { return v.kind() == ValueKind::kBool || v.is_number(); };
  if (numeric(a) && numeric(b)) {
    if (a.kind() == ValueKind::kInt && b.kind() == ValueKind::kInt) return a.as_int() < b.as_int();
    return a.as_float() < b.as_float();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list()) {
    const ValueList& x = a.as_list();
    const ValueList& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (Equals(x[i], y[i])) continue;
      return Less(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  return std::nullopt;
}

namespace {

void AppendJsonString(const std::string& s, std::string& out) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

bool AppendJson(const Value& v, const JsonDumpOptions& options, int depth, std::string& out) {
  if (depth > 512) return false;  // deeper than any JSON a request can carry
  const std::string item_sep =
      options.separators ? options.separators->first : (options.indent ? "," : ", ");
  const std::string key_sep = options.separators ? options.separators->second : ": ";
  const auto newline = [&](int level) {
    if (!options.indent) return;
    out += '\n';
    out.append(static_cast<size_t>(*options.indent) * static_cast<size_t>(level), ' ');
  };
  switch (v.kind()) {
    case ValueKind::kNone: out += "null"; return true;
    case ValueKind::kBool: out += v.as_bool() ? "true" : "false"; return true;
    case ValueKind::kInt: out += std::to_string(v.as_int()); return true;
    case ValueKind::kFloat: {
      const double d = v.as_float();
      if (std::isnan(d)) {
        out += "NaN";
      } else if (std::isinf(d)) {
        out += d < 0 ? "-Infinity" : "Infinity";
      } else {
        out += FormatPythonFloat(d);
      }
      return true;
    }
    case ValueKind::kString: AppendJsonString(v.as_string(), out); return true;
    case ValueKind::kList: {
      const ValueList& list = v.as_list();
      if (list.empty()) {
        out += "[]";
        return true;
      }
      out += '[';
      for (size_t i = 0; i < list.size(); ++i) {
        if (i > 0) out += item_sep;
        newline(depth + 1);
        if (!AppendJson(list[i], options, depth + 1, out)) return false;
      }
      newline(depth);
      out += ']';
      return true;
    }
    case ValueKind::kDict:
    case ValueKind::kNamespace: {
      if (v.kind() == ValueKind::kNamespace) return false;  // not JSON serializable in Python
      std::vector<const std::pair<std::string, Value>*> items;
      for (const auto& item : v.as_dict().items()) items.push_back(&item);
      if (items.empty()) {
        out += "{}";
        return true;
      }
      if (options.sort_keys) {
        std::stable_sort(items.begin(), items.end(),
                         [](const auto* x, const auto* y) { return x->first < y->first; });
      }
      out += '{';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += item_sep;
        newline(depth + 1);
        AppendJsonString(items[i]->first, out);
        out += key_sep;
        if (!AppendJson(items[i]->second, options, depth + 1, out)) return false;
      }
      newline(depth);
      out += '}';
      return true;
    }
    default: return false;
  }
}

}  // namespace

std::optional<std::string> DumpJson(const Value& value, const JsonDumpOptions& options) {
  std::string out;
  if (!AppendJson(value, options, 0, out)) return std::nullopt;
  return out;
}

namespace {

// Length of the UTF-8 sequence starting with `lead`, or 1 for a stray byte.
size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xe) return 3;
  if ((lead >> 3) == 0x1e) return 4;
  return 1;
}

}  // namespace

std::vector<std::string> SplitCodePoints(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = std::min(SequenceLength(static_cast<unsigned char>(s[i])), s.size() - i);
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

size_t CountCodePoints(std::string_view s) {
  size_t count = 0;
  size_t i = 0;
  while (i < s.size()) {
    i += std::min(SequenceLength(static_cast<unsigned char>(s[i])), s.size() - i);
    ++count;
  }
  return count;
}

}  // namespace dsinfer::tokenizer::jinja
