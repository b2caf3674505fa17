// Jinja2's built-in filters and tests, Python's str/dict methods, and attribute and item
// access (Environment.getattr / getitem), as chat templates use them.
//
// Filters: abs capitalize count default/d dictsort escape/e first float int items join last
// length list lower map max min reject rejectattr replace reverse round safe select
// selectattr sort string sum title tojson (transformers' version: json.dumps with
// ensure_ascii=False, indent, separators, sort_keys) trim unique upper.
// Tests: boolean callable defined divisibleby eq/equalto/== even false float ge gt in integer
// iterable le lower lt mapping ne none number odd sameas sequence string true undefined upper.
// Methods: str.startswith endswith strip lstrip rstrip split rsplit upper lower title
// capitalize replace find count join; dict.items keys values get.
// Case mapping (upper, lower, title, capitalize) is ASCII only; other code points pass
// through unchanged.
//
// Failures throw jinja::TemplateError without a line (the caller adds it).
// Thread safety: pure functions.
#ifndef DSINFER_TOKENIZER_JINJA_BUILTINS_H_
#define DSINFER_TOKENIZER_JINJA_BUILTINS_H_

#include <optional>
#include <string_view>

#include "tokenizer/jinja_value.h"

namespace dsinfer::tokenizer::jinja {

enum class BuiltinSupport { kSupported, kUnsupported, kUnknown };

// kUnsupported: Jinja2 has it, this interpreter does not; kUnknown: Jinja2 has none either.
BuiltinSupport FilterSupport(std::string_view name);
BuiltinSupport TestSupport(std::string_view name);

Value ApplyFilter(std::string_view name, const Value& subject, const CallArgs& args);
bool ApplyTest(std::string_view name, const Value& subject, const CallArgs& args);

// `object.name(args)` for a Python method of str or dict; nullopt when there is none.
std::optional<Value> CallMethod(const Value& object, std::string_view name, const CallArgs& args);

// `object.name`: a dict key or namespace attribute; missing gives Undefined. Raises on an
// Undefined object, as Jinja2's default Undefined does.
Value GetAttribute(const Value& object, std::string_view name);
// `object[key]`: list and string index (negative from the end), dict key.
Value GetItem(const Value& object, const Value& key);
// Python slicing object[start:stop:step] of a list or string; null bounds are omitted ones.
Value Slice(const Value& object, const Value* start, const Value* stop, const Value* step);

// Raises the error an operation on `value` gets when it is Undefined.
[[noreturn]] void ThrowUndefined(const Value& value);

}  // namespace dsinfer::tokenizer::jinja

#endif  // DSINFER_TOKENIZER_JINJA_BUILTINS_H_
