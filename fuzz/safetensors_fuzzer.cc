// libFuzzer target for SafetensorsFile::Parse: any bytes must give a file or a Status, never a
// crash, a sanitizer report or a huge allocation. Parsed views must lie inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "formats/safetensors_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  auto file = dsinfer::SafetensorsFile::Parse(bytes, "fuzz.safetensors", nullptr);
  if (!file.ok()) {
    if (file.status().message().empty()) std::abort();  // every error must say something
    return 0;
  }
  // Touch every view so ASan checks its bounds, and check the contract's invariants.
  const std::byte* end = bytes.data() + bytes.size();
  size_t checksum = 0;
  for (const auto& t : file->tensors()) {
    if (t.view.bytes.size() != t.data_end - t.data_begin) std::abort();
    if (!t.view.bytes.empty() &&
        (t.view.bytes.data() < bytes.data() || t.view.bytes.data() + t.view.bytes.size() > end)) {
      std::abort();
    }
    for (std::byte b : t.view.bytes) checksum += static_cast<size_t>(b);
    if (file->Find(t.name) != &t) std::abort();
  }
  return checksum == SIZE_MAX ? 1 : 0;  // keep the loop from being optimised away
}
