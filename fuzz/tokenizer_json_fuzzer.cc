// libFuzzer target for the tokenizer.json loader (LoadHfTokenizer): any bytes must give a
// Tokenizer or a Status that says something, never a crash, a sanitizer report or a hang.
// Input: tokenizer.json text, optionally followed by a NUL byte and tokenizer_config.json
// text (JSON never holds a raw NUL, so the split is unambiguous). When it loads, a few texts
// derived from the input are encoded with and without parse_special and decoded again, in
// one call and through the streaming detokenizer, which must agree (streaming_detokenizer.h).
// Seeds: tests/data/tokenizer_json/ (small tokenizers, .seed so run-fuzzers copies them).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/check.h"
#include "tokenizer/streaming_detokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_json.h"

namespace {

using dsinfer::StatusCode;
using dsinfer::StatusOr;
using dsinfer::tokenizer::StreamingDetokenizer;
using dsinfer::tokenizer::Tokenizer;

void EncodeAndDecode(const Tokenizer& tokenizer, std::string_view text) {
  for (const bool parse_special : {false, true}) {
    const StatusOr<std::vector<int32_t>> ids =
        tokenizer.Encode(text, {.parse_special = parse_special, .add_bos = true});
    if (!ids.ok()) {
      // Only a regex engine limit may stop encoding (tokenizer.h).
      DSI_CHECK_MSG(ids.status().code() == StatusCode::kResourceExhausted, "%s",
                    ids.status().ToString().c_str());
      continue;
    }
    const StatusOr<std::string> decoded = tokenizer.Decode(*ids);
    DSI_CHECK_MSG(decoded.ok(), "Encode gave an id Decode refuses: %s",
                  decoded.status().ToString().c_str());
    StreamingDetokenizer stream(&tokenizer);
    std::string streamed;
    for (const int32_t id : *ids) {
      const StatusOr<std::string> piece = stream.Feed(id);
      DSI_CHECK(piece.ok());
      streamed += *piece;
    }
    streamed += stream.Flush();
    DSI_CHECK(streamed == *decoded);
    (void)tokenizer.Decode(*ids, {.skip_special = true});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view json = input.substr(0, nul);
  std::optional<std::string_view> config;
  if (nul != std::string_view::npos) config = input.substr(nul + 1);

  const StatusOr<Tokenizer> tokenizer = dsinfer::tokenizer::LoadHfTokenizer(json, config);
  if (!tokenizer.ok()) {
    DSI_CHECK(!tokenizer.status().message().empty());
    return 0;
  }
  // Fixed texts that reach every stage, and the input's own bytes (which hold its tokens'
  // text and its added tokens' content, so these get matched too).
  EncodeAndDecode(*tokenizer, "Hello world! It's 2024.\n\n  done \xE4\xB8\xAD\xE6\x96\x87 \xFF");
  EncodeAndDecode(*tokenizer, json.substr(0, 512));
  if (json.size() > 512) EncodeAndDecode(*tokenizer, json.substr(json.size() - 512));
  for (int32_t id = -1; id <= tokenizer->vocab_size(); ++id) {
    if (id > 64 && id < tokenizer->vocab_size() - 64) id = tokenizer->vocab_size() - 64;
    (void)tokenizer->TokenBytes(id);
    (void)tokenizer->IsSpecial(id);
  }
  return 0;
}
