// jinja::Value: the values a chat template computes with, modelled on the Python objects that
// Jinja2 (as Hugging Face runs it) sees: Undefined, None, bool, int, float, str, list, dict,
// a namespace() object and callables (macros and global functions).
//
// Semantics follow Python so that rendering matches transformers byte for byte: truthiness,
// == across int/float/bool, str() of floats (repr: shortest round-trip, "1e-05", "1.0"),
// repr() of lists and dicts ("['a', None]"), json.dumps for tojson. Strings are UTF-8 and
// are indexed, sliced and measured in code points, as Python does. Dicts keep insertion order
// and have string keys only (JSON objects, namespace attributes, dict literals).
//
// Lists and dicts are shared (copying a Value is a refcount bump), like Python references;
// only namespace objects are ever mutated after construction, as in the immutable sandbox.
// Lists and dicts nest at most kMaxValueNesting deep (building a deeper one throws
// TemplateError kResourceExhausted), so walking or destroying one cannot overflow the stack;
// a namespace counts as one level whatever it holds, since the interpreter empties every
// namespace it made when a render ends (which also breaks cycles such as ns.self = ns).
//
// Thread safety: a Value is not synchronised; values built for one render stay in it.
#ifndef DSINFER_TOKENIZER_JINJA_VALUE_H_
#define DSINFER_TOKENIZER_JINJA_VALUE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace dsinfer::tokenizer::jinja {

class Value;
using ValueList = std::vector<Value>;

class ValueDict;
struct CallArgs;

// A built-in function or a macro. It may throw the interpreter's error type.
using Callable = std::function<Value(const CallArgs&)>;

inline constexpr int kMaxValueNesting = 512;

enum class ValueKind {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,
  kDict,
  kNamespace,
  kCallable
};

class Value {
 public:
  Value() = default;  // Undefined
  static Value Undefined(std::string name = {});
  static Value None();
  Value(bool b);                                    // NOLINT(google-explicit-constructor)
  Value(int64_t i);                                 // NOLINT(google-explicit-constructor)
  Value(int i) : Value(static_cast<int64_t>(i)) {}  // NOLINT(google-explicit-constructor)
  Value(double d);                                  // NOLINT(google-explicit-constructor)
  Value(std::string s);                             // NOLINT(google-explicit-constructor)
  Value(const char* s) : Value(std::string(s)) {}   // NOLINT(google-explicit-constructor)
  Value(ValueList list);                            // NOLINT(google-explicit-constructor)
  Value(ValueDict dict);                            // NOLINT(google-explicit-constructor)
  // A Python tuple: a list that prints as "(a, b)" and never equals a list.
  static Value Tuple(ValueList items);
  static Value Namespace(ValueDict attributes);
  static Value Function(std::string name, Callable fn);

  static Value FromJson(const nlohmann::ordered_json& json);

  ValueKind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == ValueKind::kUndefined; }
  bool is_none() const { return kind_ == ValueKind::kNone; }
  bool is_string() const { return kind_ == ValueKind::kString; }
  bool is_number() const { return kind_ == ValueKind::kInt || kind_ == ValueKind::kFloat; }
  bool is_list() const { return kind_ == ValueKind::kList; }
  bool is_tuple() const { return is_tuple_; }
  bool is_mapping() const { return kind_ == ValueKind::kDict; }

  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return std::get<int64_t>(data_); }
  double as_float() const;  // int, bool or float as a double
  const std::string& as_string() const { return std::get<std::string>(data_); }
  const ValueList& as_list() const { return *std::get<std::shared_ptr<ValueList>>(data_); }
  // kDict and kNamespace; a namespace's attributes are mutable through namespace_dict().
  const ValueDict& as_dict() const { return *std::get<std::shared_ptr<ValueDict>>(data_); }
  ValueDict& namespace_dict() const { return *std::get<std::shared_ptr<ValueDict>>(data_); }
  const Callable& as_callable() const { return *std::get<std::shared_ptr<Callable>>(data_); }
  // The variable name an Undefined came from, or a callable's name, for messages.
  const std::string& name() const { return name_; }

  // Python truthiness.
  bool Truthy() const;
  // Python str(): what {{ value }} prints. Undefined prints "".
  std::string Str() const;
  // Python repr(), used inside str() of lists and dicts.
  std::string Repr() const;
  // Python's type name, for error messages ("int", "str", "undefined").
  std::string_view TypeName() const;

  // For iteration: lists, dict keys, string code points, Undefined as empty; nullopt if the
  // value is not iterable.
  std::optional<ValueList> Iterate() const;

 private:
  ValueKind kind_ = ValueKind::kUndefined;
  std::variant<std::monostate, bool, int64_t, double, std::string, std::shared_ptr<ValueList>,
               std::shared_ptr<ValueDict>, std::shared_ptr<Callable>>
      data_;
  std::string name_;
  bool is_tuple_ = false;
  int nesting_ = 0;  // containers: 1 + the deepest element's; a namespace is 1
};

// An insertion-ordered string-keyed map (Python dict); lookups are linear, which is fast for
// the handful of keys messages and tool schemas carry.
class ValueDict {
 public:
  const Value* Find(std::string_view key) const;
  void Set(std::string key, Value value);
  const std::vector<std::pair<std::string, Value>>& items() const { return items_; }
  size_t size() const { return items_.size(); }

 private:
  std::vector<std::pair<std::string, Value>> items_;
};

// Positional and keyword arguments of a call, already evaluated.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;

  const Value* Keyword(std::string_view name) const;
};

// Python ==: numbers compare by value (1 == 1.0 == True), containers element-wise; Undefined
// equals only Undefined.
bool Equals(const Value& a, const Value& b);
// Python <: numbers, strings (by code point, i.e. UTF-8 byte order) and lists; nullopt when
// Python would raise TypeError.
std::optional<bool> Less(const Value& a, const Value& b);

struct JsonDumpOptions {
  std::optional<int> indent;  // None: one line with ", " and ": " separators
  bool sort_keys = false;
  std::optional<std::pair<std::string, std::string>> separators;  // (item, key)
};
// Python json.dumps(value, ensure_ascii=False, ...): the tojson filter as transformers defines
// it. nullopt for values JSON cannot hold (Undefined, callables), as Python raises there.
std::optional<std::string> DumpJson(const Value& value, const JsonDumpOptions& options);

// Python float repr: shortest round-trip digits, exponent form outside [1e-4, 1e16).
std::string FormatPythonFloat(double d);

// UTF-8 helpers: code points of `s` (bytes of malformed sequences become U+FFFD-free single
// bytes so nothing is lost), and their count.
std::vector<std::string> SplitCodePoints(std::string_view s);
size_t CountCodePoints(std::string_view s);

}  // namespace dsinfer::tokenizer::jinja

#endif  // DSINFER_TOKENIZER_JINJA_VALUE_H_
