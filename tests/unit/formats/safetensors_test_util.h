// Helpers shared by the safetensors file and model tests: build real safetensors bytes.
#ifndef DSINFER_TESTS_UNIT_FORMATS_SAFETENSORS_TEST_UTIL_H_
#define DSINFER_TESTS_UNIT_FORMATS_SAFETENSORS_TEST_UTIL_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/safetensors_file.h"
#include "formats/safetensors_model.h"
#include "tensor/dtype.h"

namespace dsinfer::safetensors_test {

using Bytes = std::vector<std::byte>;

inline constexpr char kName[] = "test.safetensors";

// Deterministic non-zero-looking bytes, so a view that points at the wrong place shows.
inline Bytes RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng() & 0xFF);
  return out;
}

// u64 LE header length + header (+ padding spaces to a multiple of 8) + data.
inline Bytes RawFile(std::string header, const Bytes& data = {}, bool pad = true) {
  if (pad) header.append((8 - header.size() % 8) % 8, ' ');
  Bytes out(8);
  uint64_t len = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::byte>((len >> (8 * i)) & 0xFF);
  for (char c : header) out.push_back(static_cast<std::byte>(c));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

struct TensorSpec {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  Bytes data;
};

inline size_t ElementSize(const std::string& dtype) {
  const std::optional<DType> parsed = DTypeFromSafetensorsName(dtype);
  return parsed ? static_cast<size_t>(GetDTypeInfo(*parsed).type_size) : 1;
}

// A valid file holding `tensors` in the given order, each one starting at the next multiple of
// its element size (a hole before it if need be), after a header padded to a multiple of 8.
inline Bytes BuildFile(const std::vector<TensorSpec>& tensors,
                       const nlohmann::json& metadata = nlohmann::json()) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.is_null()) header["__metadata__"] = metadata;
  Bytes data;
  for (const auto& t : tensors) {
    const size_t align = ElementSize(t.dtype);
    data.resize((data.size() + align - 1) / align * align);
    header[t.name] = {{"dtype", t.dtype},
                      {"shape", t.shape},
                      {"data_offsets", {data.size(), data.size() + t.data.size()}}};
    data.insert(data.end(), t.data.begin(), t.data.end());
  }
  return RawFile(header.dump(), data);
}

// Parses a copy of `bytes` that the result owns through keep_alive.
inline StatusOr<SafetensorsFile> ParseBytes(Bytes bytes) {
  auto owned = std::make_shared<const Bytes>(std::move(bytes));
  return SafetensorsFile::Parse(*owned, kName, owned);
}

inline bool SameBytes(std::span<const std::byte> a, const Bytes& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

inline void WriteFile(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

}  // namespace dsinfer::safetensors_test

#endif  // DSINFER_TESTS_UNIT_FORMATS_SAFETENSORS_TEST_UTIL_H_
