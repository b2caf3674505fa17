// ASCII-only text helpers for names that are ASCII by definition (type names, HTTP header
// names): no locale, no Unicode case folding.
#ifndef DSINFER_BASE_ASCII_H_
#define DSINFER_BASE_ASCII_H_

#include <string_view>

namespace dsinfer {

constexpr char AsciiToLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// "Q4_K_M" == "q4_k_m"; "Content-Length" == "content-length".
constexpr bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiToLower(a[i]) != AsciiToLower(b[i])) return false;
  }
  return true;
}

}  // namespace dsinfer

#endif  // DSINFER_BASE_ASCII_H_
