#include "tokenizer/tokenizer_json.h"

#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/utf8.h"
#include "formats/json_fields.h"

namespace dsinfer::tokenizer {
namespace {

using Json = nlohmann::json;

// Errors say "FILE: PATH: what"; PATH is the dotted field path ("model.merges[3]").
class Field {
 public:
  Field(const Json& value, std::string_view file, std::string path)
      : value_(&value), file_(file), path_(std::move(path)) {}

  const Json& value() const { return *value_; }
  const std::string& path() const { return path_; }

  Status Error(std::string_view what) const {
    return InvalidArgumentError(fmt::format("{}: {}: {}", file_, path_, what));
  }
  Status TypeError(std::string_view expected) const {
    return Error(fmt::format("must be {}, got {}", expected, DescribeJson(*value_)));
  }
  Field Child(std::string_view key, const Json& value) const {
    return Field(value, file_, path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key));
  }
  Field Item(size_t index, const Json& value) const {
    return Field(value, file_, fmt::format("{}[{}]", path_, index));
  }
  // The member `key`, or nullptr when absent.
  const Json* Find(std::string_view key) const {
    if (!value_->is_object()) return nullptr;
    const auto it = value_->find(std::string(key));
    return it == value_->end() ? nullptr : &*it;
  }
  Status Bool(std::string_view key, bool* out) const {
    const Json* v = Find(key);
    if (v == nullptr || v->is_null()) return Status::Ok();
    if (!v->is_boolean()) return Child(key, *v).TypeError("a boolean");
    *out = v->get<bool>();
    return Status::Ok();
  }
  Status String(std::string_view key, std::string* out, bool required) const {
    const Json* v = Find(key);
    if (v == nullptr || v->is_null()) {
      return required ? Error(fmt::format("missing '{}'", key)) : Status::Ok();
    }
    if (!v->is_string()) return Child(key, *v).TypeError("a string");
    *out = v->get<std::string>();
    return Status::Ok();
  }
  Status Object(std::string_view key, Field* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return Error(fmt::format("missing '{}'", key));
    if (!v->is_object()) return Child(key, *v).TypeError("an object");
    *out = Child(key, *v);
    return Status::Ok();
  }
  Status Array(std::string_view key, Field* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return Error(fmt::format("missing '{}'", key));
    if (!v->is_array()) return Child(key, *v).TypeError("an array");
    *out = Child(key, *v);
    return Status::Ok();
  }

 private:
  const Json* value_;
  std::string_view file_;
  std::string path_;
};

StatusOr<int32_t> TokenId(const Field& field) {
  const std::optional<uint64_t> id = JsonUint64(field.value());
  if (!id || *id > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    return field.TypeError("a token id (an integer in [0, 2^31))");
  }
  return static_cast<int32_t>(*id);
}

Status ParseModel(const Field& model, BpeModelSpec* spec) {
  std::string type = "BPE";
  DSI_RETURN_IF_ERROR(model.String("type", &type, false));
  if (type != "BPE") {
    return UnimplementedError(fmt::format("{}.type '{}' is not supported (only BPE)", model.path(),
                                          EscapeForMessage(type)));
  }
  for (const char* unsupported : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const Json* v = model.Find(unsupported);
    if (v != nullptr && !v->is_null() && !(v->is_string() && v->get<std::string>().empty())) {
      return UnimplementedError(fmt::format("{}.{} is not supported", model.path(), unsupported));
    }
  }
  if (const Json* dropout = model.Find("dropout");
      dropout != nullptr && !dropout->is_null() &&
      !(dropout->is_number() && dropout->get<double>() == 0.0)) {
    return UnimplementedError(fmt::format("{}.dropout is not supported", model.path()));
  }
  bool byte_fallback = false;
  DSI_RETURN_IF_ERROR(model.Bool("byte_fallback", &byte_fallback));
  if (byte_fallback) {
    return UnimplementedError(fmt::format("{}.byte_fallback is not supported", model.path()));
  }
  DSI_RETURN_IF_ERROR(model.Bool("ignore_merges", &spec->ignore_merges));

  Field vocab = model;
  DSI_RETURN_IF_ERROR(model.Object("vocab", &vocab));
  spec->vocab.reserve(vocab.value().size());
  for (const auto& [text, id_json] : vocab.value().items()) {
    DSI_ASSIGN_OR_RETURN(const int32_t id, TokenId(vocab.Child(text, id_json)));
    spec->vocab[text] = id;
  }
  std::string unk;
  DSI_RETURN_IF_ERROR(model.String("unk_token", &unk, false));
  if (!unk.empty()) {
    const auto it = spec->vocab.find(unk);
    if (it == spec->vocab.end()) {
      return model.Child("unk_token", *model.Find("unk_token")).Error("not in the vocab");
    }
    spec->unk_id = it->second;
  }

  Field merges = model;
  DSI_RETURN_IF_ERROR(model.Array("merges", &merges));
  spec->merges.reserve(merges.value().size());
  for (size_t i = 0; i < merges.value().size(); ++i) {
    const Field merge = merges.Item(i, merges.value()[i]);
    const Json& m = merge.value();
    if (m.is_string()) {  // "left right": tokens never hold a raw space in byte-level BPE
      const std::string& s = m.get_ref<const std::string&>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        return merge.Error("must be two tokens separated by one space");
      }
      spec->merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      spec->merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      return merge.TypeError("a \"left right\" string or a [left, right] pair of strings");
    }
  }
  return Status::Ok();
}

Status ParseAddedTokens(const Field& list, std::vector<AddedToken>* out) {
  for (size_t i = 0; i < list.value().size(); ++i) {
    const Field item = list.Item(i, list.value()[i]);
    if (!item.value().is_object()) return item.TypeError("an object");
    AddedToken token;
    const Json* id = item.Find("id");
    if (id == nullptr) return item.Error("missing 'id'");
    DSI_ASSIGN_OR_RETURN(token.id, TokenId(item.Child("id", *id)));
    DSI_RETURN_IF_ERROR(item.String("content", &token.content, true));
    if (token.content.empty()) return item.Error("'content' is empty");
    DSI_RETURN_IF_ERROR(item.Bool("special", &token.special));
    DSI_RETURN_IF_ERROR(item.Bool("lstrip", &token.lstrip));
    DSI_RETURN_IF_ERROR(item.Bool("rstrip", &token.rstrip));
    DSI_RETURN_IF_ERROR(item.Bool("single_word", &token.single_word));
    DSI_RETURN_IF_ERROR(item.Bool("normalized", &token.normalized));
    out->push_back(std::move(token));
  }
  return Status::Ok();
}

// A {"Regex": ...} or {"String": ...} pattern.
StatusOr<SplitRegex> ParsePattern(const Field& pattern) {
  if (!pattern.value().is_object()) return pattern.TypeError("an object with Regex or String");
  std::string source;
  StatusOr<SplitRegex> regex = InvalidArgumentError("unreachable");
  if (pattern.Find("Regex") != nullptr) {
    DSI_RETURN_IF_ERROR(pattern.String("Regex", &source, true));
    regex = SplitRegex::Compile(source);
  } else if (pattern.Find("String") != nullptr) {
    DSI_RETURN_IF_ERROR(pattern.String("String", &source, true));
    regex = SplitRegex::Literal(source);
  } else {
    return pattern.Error("needs a 'Regex' or a 'String'");
  }
  if (!regex.ok()) return regex.status().WithContext(pattern.path());
  return regex;
}

Status ParsePreTokenizer(const Field& field, std::vector<PreTokenizerStep>* steps) {
  if (field.value().is_null()) return Status::Ok();
  if (!field.value().is_object()) return field.TypeError("an object or null");
  std::string type;
  DSI_RETURN_IF_ERROR(field.String("type", &type, true));
  if (type == "Sequence") {
    Field list = field;
    DSI_RETURN_IF_ERROR(field.Array("pretokenizers", &list));
    for (size_t i = 0; i < list.value().size(); ++i) {
      DSI_RETURN_IF_ERROR(ParsePreTokenizer(list.Item(i, list.value()[i]), steps));
    }
  } else if (type == "Split") {
    SplitStep step;
    Field pattern = field;
    DSI_RETURN_IF_ERROR(field.Object("pattern", &pattern));
    DSI_ASSIGN_OR_RETURN(step.regex, ParsePattern(pattern));
    std::string behavior;
    DSI_RETURN_IF_ERROR(field.String("behavior", &behavior, true));
    if (behavior == "Isolated") {
      step.behavior = SplitBehavior::kIsolated;
    } else if (behavior == "Removed") {
      step.behavior = SplitBehavior::kRemoved;
    } else if (behavior == "MergedWithPrevious") {
      step.behavior = SplitBehavior::kMergedWithPrevious;
    } else if (behavior == "MergedWithNext") {
      step.behavior = SplitBehavior::kMergedWithNext;
    } else if (behavior == "Contiguous") {
      step.behavior = SplitBehavior::kContiguous;
    } else {
      return field.Child("behavior", *field.Find("behavior"))
          .Error(fmt::format("unknown behavior '{}'", EscapeForMessage(behavior)));
    }
    DSI_RETURN_IF_ERROR(field.Bool("invert", &step.invert));
    steps->emplace_back(std::move(step));
  } else if (type == "ByteLevel") {
    ByteLevelStep step;
    DSI_RETURN_IF_ERROR(field.Bool("add_prefix_space", &step.add_prefix_space));
    DSI_RETURN_IF_ERROR(field.Bool("use_regex", &step.use_regex));
    steps->emplace_back(step);
  } else if (type == "Digits") {
    DigitsStep step;
    DSI_RETURN_IF_ERROR(field.Bool("individual_digits", &step.individual_digits));
    steps->emplace_back(step);
  } else {
    return UnimplementedError(
        fmt::format("{}.type '{}' is not supported", field.path(), EscapeForMessage(type)));
  }
  return Status::Ok();
}

Status ParseNormalizer(const Field& field, std::vector<NormalizerStep>* steps) {
  if (field.value().is_null()) return Status::Ok();
  if (!field.value().is_object()) return field.TypeError("an object or null");
  std::string type;
  DSI_RETURN_IF_ERROR(field.String("type", &type, true));
  if (type == "Sequence") {
    Field list = field;
    DSI_RETURN_IF_ERROR(field.Array("normalizers", &list));
    for (size_t i = 0; i < list.value().size(); ++i) {
      DSI_RETURN_IF_ERROR(ParseNormalizer(list.Item(i, list.value()[i]), steps));
    }
  } else if (type == "Prepend") {
    PrependStep step;
    DSI_RETURN_IF_ERROR(field.String("prepend", &step.prefix, true));
    steps->emplace_back(std::move(step));
  } else if (type == "Replace") {
    Field pattern = field;
    DSI_RETURN_IF_ERROR(field.Object("pattern", &pattern));
    DSI_ASSIGN_OR_RETURN(SplitRegex regex, ParsePattern(pattern));
    std::string content;
    DSI_RETURN_IF_ERROR(field.String("content", &content, true));
    steps->emplace_back(ReplaceStep{.pattern = std::move(regex), .content = std::move(content)});
  } else if (type == "Strip") {
    StripStep step;
    DSI_RETURN_IF_ERROR(field.Bool("strip_left", &step.left));
    DSI_RETURN_IF_ERROR(field.Bool("strip_right", &step.right));
    steps->emplace_back(step);
  } else {
    return UnimplementedError(
        fmt::format("{}.type '{}' is not supported (NFC/NFKC/Lowercase "
                    "and the like need Unicode tables)",
                    field.path(), EscapeForMessage(type)));
  }
  return Status::Ok();
}

Status CheckDecoder(const Field& field) {
  if (field.value().is_null()) return Status::Ok();
  if (!field.value().is_object()) return field.TypeError("an object or null");
  std::string type;
  DSI_RETURN_IF_ERROR(field.String("type", &type, true));
  if (type != "ByteLevel") {
    return UnimplementedError(fmt::format("{}.type '{}' is not supported (only ByteLevel)",
                                          field.path(), EscapeForMessage(type)));
  }
  return Status::Ok();
}

// A special-token field of tokenizer_config.json: "text", {"content": "text"}, or null.
Status ConfigToken(const Field& config, std::string_view key, std::string* out) {
  const Json* v = config.Find(key);
  if (v == nullptr || v->is_null()) return Status::Ok();
  const Field field = config.Child(key, *v);
  if (v->is_string()) {
    *out = v->get<std::string>();
    return Status::Ok();
  }
  if (v->is_object()) return field.String("content", out, true);
  return field.TypeError("a string or an object with 'content'");
}

}  // namespace

StatusOr<TokenizerSpec> ParseTokenizerJson(std::string_view text, std::string_view file) {
  DSI_ASSIGN_OR_RETURN(const Json root, ParseJsonObject(text, file));
  const Field top(root, file, "");
  TokenizerSpec spec;
  Field model = top;
  DSI_RETURN_IF_ERROR(top.Object("model", &model));
  DSI_RETURN_IF_ERROR(ParseModel(model, &spec.model));
  if (const Json* added = top.Find("added_tokens"); added != nullptr && !added->is_null()) {
    const Field list = top.Child("added_tokens", *added);
    if (!added->is_array()) return list.TypeError("an array");
    DSI_RETURN_IF_ERROR(ParseAddedTokens(list, &spec.added_tokens));
  }
  static const Json kNull;
  const auto member = [&](std::string_view key) {
    const Json* v = top.Find(key);
    return top.Child(key, v != nullptr ? *v : kNull);
  };
  std::vector<NormalizerStep> normalizer;
  DSI_RETURN_IF_ERROR(ParseNormalizer(member("normalizer"), &normalizer));
  spec.normalizer = Normalizer(std::move(normalizer));
  DSI_RETURN_IF_ERROR(ParsePreTokenizer(member("pre_tokenizer"), &spec.pre_tokenizer));
  DSI_RETURN_IF_ERROR(CheckDecoder(member("decoder")));
  return spec;
}

Status ApplyTokenizerConfig(std::string_view text, std::string_view file, TokenizerSpec* spec) {
  DSI_ASSIGN_OR_RETURN(const Json root, ParseJsonObject(text, file));
  const Field config(root, file, "");
  DSI_RETURN_IF_ERROR(config.Bool("add_bos_token", &spec->add_bos));
  DSI_RETURN_IF_ERROR(config.Bool("add_eos_token", &spec->add_eos));
  const auto resolve = [&](std::string_view key, std::optional<int32_t>* id) -> Status {
    std::string content;
    DSI_RETURN_IF_ERROR(ConfigToken(config, key, &content));
    if (content.empty()) return Status::Ok();
    for (const AddedToken& token : spec->added_tokens) {
      if (token.content == content) *id = token.id;
    }
    if (!*id) {
      if (const auto it = spec->model.vocab.find(content); it != spec->model.vocab.end()) {
        *id = it->second;
      }
    }
    if (!*id) {
      return config.Child(key, *config.Find(key))
          .Error(fmt::format("'{}' is not a token of tokenizer.json", EscapeForMessage(content)));
    }
    return Status::Ok();
  };
  DSI_RETURN_IF_ERROR(resolve("bos_token", &spec->bos_id));
  DSI_RETURN_IF_ERROR(resolve("eos_token", &spec->eos_id));
  if (const Json* tmpl = config.Find("chat_template"); tmpl != nullptr && !tmpl->is_null()) {
    const Field field = config.Child("chat_template", *tmpl);
    if (tmpl->is_string()) {
      spec->chat_template = tmpl->get<std::string>();
    } else if (tmpl->is_array()) {
      for (size_t i = 0; i < tmpl->size(); ++i) {
        const Field item = field.Item(i, (*tmpl)[i]);
        std::string name;
        std::string source;
        DSI_RETURN_IF_ERROR(item.String("name", &name, true));
        DSI_RETURN_IF_ERROR(item.String("template", &source, true));
        if (name == "default") spec->chat_template = std::move(source);
      }
    } else {
      return field.TypeError("a string or a list of {name, template}");
    }
  }
  return Status::Ok();
}

StatusOr<Tokenizer> LoadHfTokenizer(std::string_view tokenizer_json,
                                    std::optional<std::string_view> tokenizer_config) {
  DSI_ASSIGN_OR_RETURN(TokenizerSpec spec, ParseTokenizerJson(tokenizer_json, "tokenizer.json"));
  if (tokenizer_config) {
    DSI_RETURN_IF_ERROR(ApplyTokenizerConfig(*tokenizer_config, "tokenizer_config.json", &spec));
  }
  StatusOr<Tokenizer> tokenizer = Tokenizer::Create(std::move(spec));
  if (!tokenizer.ok()) return tokenizer.status().WithContext("tokenizer.json");
  return tokenizer;
}

}  // namespace dsinfer::tokenizer
