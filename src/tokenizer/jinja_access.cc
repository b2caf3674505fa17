// Attribute, item and slice access (Jinja2's Environment.getattr/getitem) and the Python
// methods of str and dict that chat templates call.
#include <algorithm>
#include <string>

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_strings.h"

namespace dsinfer::tokenizer::jinja {
namespace {

std::string NoAttribute(const Value& object, std::string_view name) {
  return "'" + std::string(object.TypeName()) + " object' has no attribute '" + std::string(name) +
         "'";
}

// By value: callers pass temporaries as the fallback.
Value Arg(const CallArgs& args, size_t index, std::string_view keyword, const Value& fallback) {
  if (index < args.positional.size()) return args.positional[index];
  if (const Value* v = args.Keyword(keyword)) return *v;
  return fallback;
}

std::optional<std::string> OptionalString(const Value& v, std::string_view method) {
  if (v.is_none() || v.is_undefined()) return std::nullopt;
  if (!v.is_string()) ThrowInvalid(std::string(method) + "() argument must be str or None");
  return v.as_string();
}

long OptionalInt(const Value& v, long fallback) {
  return v.kind() == ValueKind::kInt ? static_cast<long>(v.as_int()) : fallback;
}

// Python's slice.indices(): clamps start/stop for the sign of step.
void SliceIndices(int64_t length, const Value* start_v, const Value* stop_v, int64_t step,
                  int64_t& start, int64_t& stop) {
  const auto bound = [&](const Value* v, int64_t fallback) -> int64_t {
    if (v == nullptr || v->is_none()) return fallback;
    if (v->kind() != ValueKind::kInt) ThrowInvalid("slice indices must be integers or None");
    int64_t i = v->as_int();
    if (i < 0) {
      i += length;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= length) {
      i = step < 0 ? length - 1 : length;
    }
    return i;
  };
  start = bound(start_v, step < 0 ? length - 1 : 0);
  stop = bound(stop_v, step < 0 ? -1 : length);
}

}  // namespace

Value GetAttribute(const Value& object, std::string_view name) {
  switch (object.kind()) {
    case ValueKind::kUndefined: ThrowUndefined(object);
    case ValueKind::kDict:
    case ValueKind::kNamespace: {
      const Value* v = object.as_dict().Find(name);
      if (v != nullptr) return *v;
      return Value::Undefined(NoAttribute(object, name));
    }
    default: return Value::Undefined(NoAttribute(object, name));
  }
}

Value GetItem(const Value& object, const Value& key) {
  switch (object.kind()) {
    case ValueKind::kUndefined: ThrowUndefined(object);
    case ValueKind::kDict:
    case ValueKind::kNamespace:
      if (key.is_string()) return GetAttribute(object, key.as_string());
      return Value::Undefined("'dict object' has no attribute " + key.Repr());
    case ValueKind::kList:
    case ValueKind::kString: {
      if (key.kind() != ValueKind::kInt && key.kind() != ValueKind::kBool) {
        if (key.is_string()) return Value::Undefined(NoAttribute(object, key.as_string()));
        return Value::Undefined(std::string(object.TypeName()) + " indices must be integers");
      }
      int64_t i =
          key.kind() == ValueKind::kBool ? static_cast<int64_t>(key.as_bool()) : key.as_int();
      if (object.is_list()) {
        const auto n = static_cast<int64_t>(object.as_list().size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value::Undefined("list object has no element " + key.Repr());
        return object.as_list()[static_cast<size_t>(i)];
      }
      const std::vector<std::string> cps = SplitCodePoints(object.as_string());
      const auto n = static_cast<int64_t>(cps.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value::Undefined("str object has no element " + key.Repr());
      return Value(cps[static_cast<size_t>(i)]);
    }
    default:
      return Value::Undefined("'" + std::string(object.TypeName()) + "' object has no item " +
                              key.Repr());
  }
}

Value Slice(const Value& object, const Value* start, const Value* stop, const Value* step_v) {
  if (object.is_undefined()) ThrowUndefined(object);
  int64_t step = 1;
  if (step_v != nullptr && !step_v->is_none()) {
    if (step_v->kind() != ValueKind::kInt) ThrowInvalid("slice step must be an integer");
    step = step_v->as_int();
    if (step == 0) ThrowInvalid("slice step cannot be zero");
  }
  const bool is_string = object.is_string();
  if (!is_string && !object.is_list()) {
    ThrowInvalid("'" + std::string(object.TypeName()) + "' object is not subscriptable");
  }
  const std::vector<std::string> cps =
      is_string ? SplitCodePoints(object.as_string()) : std::vector<std::string>{};
  const auto length = static_cast<int64_t>(is_string ? cps.size() : object.as_list().size());
  int64_t begin = 0;
  int64_t end = 0;
  SliceIndices(length, start, stop, step, begin, end);
  std::string out_string;
  ValueList out_list;
  for (int64_t i = begin; step > 0 ? i < end : i > end; i += step) {
    if (is_string) {
      out_string += cps[static_cast<size_t>(i)];
    } else {
      out_list.push_back(object.as_list()[static_cast<size_t>(i)]);
    }
  }
  return is_string ? Value(std::move(out_string)) : Value(std::move(out_list));
}

std::optional<Value> CallMethod(const Value& object, std::string_view name, const CallArgs& args) {
  const Value none = Value::None();
  if (object.is_mapping()) {
    const ValueDict& dict = object.as_dict();
    if (name == "items" || name == "keys" || name == "values") {
      ValueList out;
      for (const auto& [k, v] : dict.items()) {
        if (name == "items") {
          out.push_back(Value::Tuple(ValueList{Value(k), v}));
        } else {
          out.push_back(name == "keys" ? Value(k) : v);
        }
      }
      return Value(std::move(out));
    }
    if (name == "get") {
      if (args.positional.empty()) ThrowInvalid("get() needs a key");
      const Value& key = args.positional[0];
      const Value* v = key.is_string() ? dict.Find(key.as_string()) : nullptr;
      if (v != nullptr) return *v;
      return args.positional.size() > 1 ? args.positional[1] : none;
    }
    return std::nullopt;
  }
  if (!object.is_string()) return std::nullopt;
  const std::string& s = object.as_string();
  if (name == "startswith" || name == "endswith") {
    const Value prefix = Arg(args, 0, "prefix", none);
    ValueList options = prefix.is_list() ? prefix.as_list() : ValueList{prefix};
    for (const Value& option : options) {
      if (!option.is_string()) ThrowInvalid(std::string(name) + "() argument must be str");
      const std::string& p = option.as_string();
      const bool match =
          name == "startswith"
              ? s.compare(0, p.size(), p) == 0
              : s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
      if (match) return Value(true);
    }
    return Value(false);
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const std::optional<std::string> chars = OptionalString(Arg(args, 0, "chars", none), name);
    return Value(PyStrip(s, chars, name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    const std::optional<std::string> sep = OptionalString(Arg(args, 0, "sep", none), name);
    if (sep && sep->empty()) ThrowInvalid("empty separator");
    ValueList out;
    for (std::string& part :
         PySplit(s, sep, OptionalInt(Arg(args, 1, "maxsplit", none), -1), name == "rsplit")) {
      out.emplace_back(std::move(part));
    }
    return Value(std::move(out));
  }
  if (name == "upper") return Value(AsciiUpper(s));
  if (name == "lower") return Value(AsciiLower(s));
  if (name == "capitalize") return Value(PyCapitalize(s));
  if (name == "title") return Value(JinjaTitle(s));
  if (name == "replace") {
    if (args.positional.size() < 2) ThrowInvalid("replace() needs (old, new)");
    return Value(PyReplace(s, args.positional[0].Str(), args.positional[1].Str(),
                           OptionalInt(Arg(args, 2, "count", none), -1)));
  }
  if (name == "find" || name == "count") {
    const Value needle = Arg(args, 0, "sub", none);
    if (!needle.is_string()) ThrowInvalid(std::string(name) + "() argument must be str");
    const std::string& n = needle.as_string();
    if (name == "find") {
      const size_t at = s.find(n);
      if (at == std::string::npos) return Value(int64_t{-1});
      return Value(static_cast<int64_t>(CountCodePoints(std::string_view(s).substr(0, at))));
    }
    if (n.empty()) return Value(static_cast<int64_t>(CountCodePoints(s) + 1));
    int64_t count = 0;
    for (size_t at = s.find(n); at != std::string::npos; at = s.find(n, at + n.size())) ++count;
    return Value(count);
  }
  if (name == "join") {
    std::optional<ValueList> items = Arg(args, 0, "iterable", none).Iterate();
    if (!items) ThrowInvalid("join() argument must be iterable");
    std::string out;
    for (size_t i = 0; i < items->size(); ++i) {
      if (!(*items)[i].is_string()) ThrowInvalid("join() items must be str");
      if (i > 0) out += s;
      out += (*items)[i].as_string();
    }
    return Value(std::move(out));
  }
  if (name == "format") ThrowUnsupported("str.format() is not supported");
  return std::nullopt;
}

}  // namespace dsinfer::tokenizer::jinja
