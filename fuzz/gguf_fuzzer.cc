// libFuzzer target: GgufFile::Parse must return a Status for any bytes, never crash, hang or
// allocate without bound; whatever parses must survive a write/re-parse round trip.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/check.h"
#include "formats/gguf_file.h"
#include "formats/gguf_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  dsinfer::StatusOr<dsinfer::GgufFile> file = dsinfer::GgufFile::Parse(bytes, "fuzz.gguf", nullptr);
  if (!file.ok()) return 0;
  for (const auto& t : file->tensors()) {
    volatile std::byte sink{};
    if (!t.view.bytes.empty()) sink = t.view.bytes.back();  // every view is inside the input
    (void)sink;
  }
  dsinfer::GgufWriter writer;
  if (!writer.AddAllFrom(*file).ok()) return 0;  // e.g. an alignment key that is not u32-valued
  const dsinfer::StatusOr<std::vector<std::byte>> rewritten = writer.WriteToBuffer();
  DSI_CHECK(rewritten.ok());
  dsinfer::StatusOr<dsinfer::GgufFile> again =
      dsinfer::GgufFile::Parse(*rewritten, "rewritten.gguf", nullptr);
  DSI_CHECK_MSG(again.ok(), "re-parse failed: %s", again.status().ToString().c_str());
  DSI_CHECK(again->metadata().size() == file->metadata().size());
  DSI_CHECK(again->tensors().size() == file->tensors().size());
  return 0;
}
