// Python str semantics on UTF-8 bytes.
#include "tokenizer/jinja_strings.h"

#include <algorithm>

#include "tokenizer/jinja_value.h"

namespace dsinfer::tokenizer::jinja {
namespace {

bool IsPySpace(std::string_view cp) {
  if (cp.size() == 1) {
    const auto c = static_cast<unsigned char>(cp[0]);
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  }
  static constexpr std::string_view kSpaces[] = {"\u0085", "\u00a0", "\u1680", "\u2000", "\u2001",
                                                 "\u2002", "\u2003", "\u2004", "\u2005", "\u2006",
                                                 "\u2007", "\u2008", "\u2009", "\u200a", "\u2028",
                                                 "\u2029", "\u202f", "\u205f", "\u3000"};
  return std::find(std::begin(kSpaces), std::end(kSpaces), cp) != std::end(kSpaces);
}

}  // namespace

std::string PyStrip(std::string_view s, const std::optional<std::string>& chars, bool left,
                    bool right) {
  const std::vector<std::string> cps = SplitCodePoints(s);
  std::vector<std::string> strip_set;
  if (chars) strip_set = SplitCodePoints(*chars);
  const auto strippable = [&](const std::string& cp) {
    if (!chars) return IsPySpace(cp);
    return std::find(strip_set.begin(), strip_set.end(), cp) != strip_set.end();
  };
  size_t begin = 0;
  size_t end = cps.size();
  if (left) {
    while (begin < end && strippable(cps[begin])) ++begin;
  }
  if (right) {
    while (end > begin && strippable(cps[end - 1])) --end;
  }
  std::string out;
  for (size_t i = begin; i < end; ++i) out += cps[i];
  return out;
}

std::vector<std::string> PySplit(std::string_view s, const std::optional<std::string>& sep,
                                 long maxsplit, bool reverse) {
  std::vector<std::string> parts;
  if (sep) {
    if (!reverse) {
      size_t start = 0;
      while (maxsplit < 0 || static_cast<long>(parts.size()) < maxsplit) {
        const size_t at = s.find(*sep, start);
        if (at == std::string_view::npos) break;
        parts.emplace_back(s.substr(start, at - start));
        start = at + sep->size();
      }
      parts.emplace_back(s.substr(start));
      return parts;
    }
    size_t end = s.size();
    while (maxsplit < 0 || static_cast<long>(parts.size()) < maxsplit) {
      if (end < sep->size()) break;
      const size_t at = s.rfind(*sep, end - sep->size());
      if (at == std::string_view::npos) break;
      parts.emplace_back(s.substr(at + sep->size(), end - at - sep->size()));
      end = at;
    }
    parts.emplace_back(s.substr(0, end));
    std::reverse(parts.begin(), parts.end());
    return parts;
  }
  // Whitespace runs; leading and trailing whitespace gives no empty parts.
  const std::vector<std::string> cps = SplitCodePoints(s);
  std::vector<std::pair<size_t, size_t>> words;  // code point ranges
  size_t i = 0;
  while (i < cps.size()) {
    while (i < cps.size() && IsPySpace(cps[i])) ++i;
    if (i == cps.size()) break;
    const size_t start = i;
    while (i < cps.size() && !IsPySpace(cps[i])) ++i;
    words.emplace_back(start, i);
  }
  const auto join = [&](size_t a, size_t b) {
    std::string out;
    for (size_t k = a; k < b; ++k) out += cps[k];
    return out;
  };
  if (maxsplit < 0 || static_cast<size_t>(maxsplit) >= words.size()) {
    for (const auto& [a, b] : words) parts.push_back(join(a, b));
    return parts;
  }
  const auto n = static_cast<size_t>(maxsplit);
  if (!reverse) {
    for (size_t w = 0; w < n; ++w) parts.push_back(join(words[w].first, words[w].second));
    // The rest keeps its inner whitespace, with leading whitespace removed and the trailing
    // whitespace kept, as Python does.
    parts.push_back(join(words[n].first, cps.size()));
    return parts;
  }
  const size_t first_kept = words.size() - n;
  parts.push_back(join(0, words[first_kept - 1].second));
  for (size_t w = first_kept; w < words.size(); ++w) {
    parts.push_back(join(words[w].first, words[w].second));
  }
  return parts;
}

std::string PyReplace(std::string_view s, std::string_view from, std::string_view to, long count) {
  std::string out;
  if (from.empty()) {
    // Python inserts `to` between every code point and at both ends.
    const std::vector<std::string> cps = SplitCodePoints(s);
    long done = 0;
    for (const std::string& cp : cps) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      out += cp;
    }
    if (count < 0 || done < count) out += to;
    return out;
  }
  size_t start = 0;
  long done = 0;
  while (count < 0 || done < count) {
    const size_t at = s.find(from, start);
    if (at == std::string_view::npos) break;
    out.append(s.substr(start, at - start));
    out.append(to);
    start = at + from.size();
    ++done;
  }
  out.append(s.substr(start));
  return out;
}

std::string AsciiUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string PyCapitalize(std::string_view s) {
  if (s.empty()) return "";
  return AsciiUpper(s.substr(0, 1)) + AsciiLower(s.substr(1));
}

std::string JinjaTitle(std::string_view s) {
  std::string out;
  bool word_start = true;
  for (char c : s) {
    const bool separator = c == ' ' || (c >= 0x09 && c <= 0x0d) || c == '-' || c == '(' ||
                           c == '{' || c == '[' || c == '<';
    if (separator) {
      out += c;
      word_start = true;
    } else if (word_start) {
      out += AsciiUpper(std::string_view(&c, 1));
      word_start = false;
    } else {
      out += AsciiLower(std::string_view(&c, 1));
    }
  }
  return out;
}

}  // namespace dsinfer::tokenizer::jinja
