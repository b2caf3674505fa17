// `dsinfer tokenize -m MODEL` and `dsinfer detokenize -m MODEL`: the model's tokenizer on
// stdin, for scripts and for the reference-comparison tests. MODEL is a GGUF file, a
// tokenizer.json, or an HF directory.
//   tokenize:    stdin text -> one JSON id array. --jsonl: each input line is a JSON string,
//                each output line its id array. --special: match special tokens' text.
//   detokenize:  a JSON id array on stdin -> the text (ill-formed UTF-8 as U+FFFD).
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "tokenizer/load_tokenizer.h"

namespace dsinfer {
namespace {

std::string IdsToJson(const std::vector<int32_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(ids[i]);
  }
  out += ']';
  return out;
}

void WriteLine(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

struct TokenizeOptions {
  std::string model;
  bool jsonl = false;
  bool special = false;
  bool add_bos = false;
};

int RunTokenize(const TokenizeOptions& options) {
  constexpr const char* kCommand = "dsinfer tokenize";
  StatusOr<tokenizer::Tokenizer> tok = tokenizer::LoadTokenizer(options.model);
  if (!tok.ok()) return ReportError(kCommand, tok.status().message());
  const tokenizer::EncodeOptions encode{.parse_special = options.special,
                                        .add_bos = options.add_bos};
  if (!options.jsonl) {
    const std::string text((std::istreambuf_iterator<char>(std::cin)),
                           std::istreambuf_iterator<char>());
    StatusOr<std::vector<int32_t>> ids = tok->Encode(text, encode);
    if (!ids.ok()) return ReportError(kCommand, ids.status().message());
    WriteLine(IdsToJson(*ids));
    return 0;
  }
  std::string line;
  for (size_t line_no = 1; std::getline(std::cin, line); ++line_no) {
    const nlohmann::json value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!value.is_string()) {
      return ReportError(kCommand, fmt::format("stdin line {}: must be a JSON string", line_no));
    }
    StatusOr<std::vector<int32_t>> ids = tok->Encode(value.get_ref<const std::string&>(), encode);
    if (!ids.ok()) {
      return ReportError(kCommand, fmt::format("line {}: {}", line_no, ids.status().message()));
    }
    WriteLine(IdsToJson(*ids));
  }
  return 0;
}

int RunDetokenize(const std::string& model) {
  constexpr const char* kCommand = "dsinfer detokenize";
  StatusOr<tokenizer::Tokenizer> tok = tokenizer::LoadTokenizer(model);
  if (!tok.ok()) return ReportError(kCommand, tok.status().message());
  const std::string text((std::istreambuf_iterator<char>(std::cin)),
                         std::istreambuf_iterator<char>());
  const nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<int32_t> ids;
  bool ok = value.is_array();
  for (size_t i = 0; ok && i < value.size(); ++i) {
    const nlohmann::json& item = value[i];
    ok = item.is_number_integer() && item.get<int64_t>() >= 0 &&
         item.get<int64_t>() <= std::numeric_limits<int32_t>::max();
    if (ok) ids.push_back(static_cast<int32_t>(item.get<int64_t>()));
  }
  if (!ok) return ReportError(kCommand, "stdin must be a JSON array of token ids");
  StatusOr<std::string> decoded = tok->Decode(ids);
  if (!decoded.ok()) return ReportError(kCommand, decoded.status().message());
  std::fwrite(decoded->data(), 1, decoded->size(), stdout);
  return 0;
}

}  // namespace

void RegisterTokenizeCommands(CLI::App& app, CommandFn* run) {
  auto options = std::make_shared<TokenizeOptions>();
  CLI::App* tokenize = app.add_subcommand("tokenize", "Text on stdin -> token ids (JSON)");
  tokenize->add_option("-m,--model", options->model, "GGUF file, tokenizer.json or HF directory")
      ->required();
  tokenize->add_flag("--jsonl", options->jsonl,
                     "each stdin line is a JSON string; print one id array per line");
  tokenize->add_flag("--special", options->special, "match special tokens' text as tokens");
  tokenize->add_flag("--add-bos", options->add_bos, "prepend the BOS token");
  tokenize->callback([run, options] { *run = [options] { return RunTokenize(*options); }; });

  auto model = std::make_shared<std::string>();
  CLI::App* detokenize =
      app.add_subcommand("detokenize", "A JSON array of token ids on stdin -> text");
  detokenize->add_option("-m,--model", *model, "GGUF file, tokenizer.json or HF directory")
      ->required();
  detokenize->callback([run, model] { *run = [model] { return RunDetokenize(*model); }; });
}

}  // namespace dsinfer
