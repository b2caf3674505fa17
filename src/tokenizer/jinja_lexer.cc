// Jinja2's lexer rules (jinja2/lexer.py) for the delimiters {{ }}, {% %}, {# #}.
#include "tokenizer/jinja_lexer.h"

#include <cctype>
#include <cstdint>
#include <string>

#include "tokenizer/jinja_error.h"

namespace dsinfer::tokenizer::jinja {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

class Lexer {
 public:
  Lexer(std::string source, const LexerOptions& options)
      : src_(std::move(source)), options_(options) {}

  std::vector<Token> Run() {
    bool line_starting = true;  // the previous match ended with "\n" (or nothing came yet)
    while (pos_ < src_.size()) {
      const size_t tag = FindTagStart(pos_);
      std::string text = src_.substr(pos_, tag - pos_);
      if (tag == src_.size()) {
        Emit(TokenKind::kText, std::move(text), LineAt(pos_));
        pos_ = tag;
        break;
      }
      const char type = src_[tag + 1];  // '{', '%' or '#'
      const char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      const int text_line = LineAt(pos_);
      if (sign == '-') {
        size_t n = text.size();
        while (n > 0 && IsSpace(text[n - 1])) --n;
        text.resize(n);
      } else if (sign != '+' && options_.lstrip_blocks && type != '{') {
        const size_t l_pos = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
        if ((l_pos > 0 || line_starting) && l_pos < text.size()) {
          bool all_space = true;
          for (size_t i = l_pos; i < text.size(); ++i) all_space = all_space && IsSpace(text[i]);
          if (all_space) text.resize(l_pos);
        }
      }
      Emit(TokenKind::kText, std::move(text), text_line);
      pos_ = tag + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
      if (type == '#') {
        line_starting = LexComment(tag);
      } else if (type == '%' && TryLexRaw(tag, line_starting)) {
        // raw body emitted as text
      } else {
        line_starting = LexTag(type == '%', tag);
      }
    }
    tokens_.push_back({TokenKind::kEnd, "", LineAt(src_.size())});
    return std::move(tokens_);
  }

  // Newline normalisation and the trailing-newline rule, before lexing.
  static std::string Normalize(std::string_view source, bool keep_trailing_newline) {
    std::string out;
    out.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
      if (source[i] == '\r') {
        out += '\n';
        if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
      } else {
        out += source[i];
      }
    }
    if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

 private:
  int LineAt(size_t pos) {
    // Positions only move forward, so count incrementally.
    while (line_pos_ < pos && line_pos_ < src_.size()) {
      if (src_[line_pos_] == '\n') ++line_;
      ++line_pos_;
    }
    return line_;
  }

  void Emit(TokenKind kind, std::string text, int line) {
    if (kind == TokenKind::kText && text.empty()) return;
    tokens_.push_back({kind, std::move(text), line});
  }

  size_t FindTagStart(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) {
        return i;
      }
    }
    return src_.size();
  }

  // After a tag end: "-" strips all following whitespace, plain trim_blocks one "\n".
  // Returns whether the match ended with "\n" (Jinja's line_starting).
  bool AfterTagEnd(char strip, bool block_like) {
    if (strip == '-') {
      const size_t start = pos_;
      while (pos_ < src_.size() && IsSpace(src_[pos_])) ++pos_;
      return pos_ > start && src_[pos_ - 1] == '\n';
    }
    if (strip != '+' && block_like && options_.trim_blocks && pos_ < src_.size() &&
        src_[pos_] == '\n') {
      ++pos_;
      return true;
    }
    return false;
  }

  bool LexComment(size_t tag) {
    const size_t end = src_.find("#}", pos_);
    if (end == std::string::npos) ThrowInvalid("unclosed comment", LineAt(tag));
    const char strip =
        (end > pos_ && (src_[end - 1] == '-' || src_[end - 1] == '+')) ? src_[end - 1] : '\0';
    pos_ = end + 2;
    return AfterTagEnd(strip, true);
  }

  // {% raw %}...{% endraw %}: the body is text, untouched.
  bool TryLexRaw(size_t tag, bool& line_starting) {
    size_t p = pos_;
    while (p < src_.size() && IsSpace(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0) return false;
    p += 3;
    while (p < src_.size() && IsSpace(src_[p])) ++p;
    bool strip_after = false;
    if (src_.compare(p, 3, "-%}") == 0) {
      strip_after = true;
      p += 3;
    } else if (src_.compare(p, 2, "%}") == 0) {
      p += 2;
    } else {
      return false;
    }
    if (strip_after) {
      while (p < src_.size() && IsSpace(src_[p])) ++p;
    }
    // Find "{%[-+]? endraw [-+]?%}".
    for (size_t q = src_.find("{%", p); q != std::string::npos; q = src_.find("{%", q + 2)) {
      size_t r = q + 2;
      const char sign = r < src_.size() ? src_[r] : '\0';
      if (sign == '-' || sign == '+') ++r;
      while (r < src_.size() && IsSpace(src_[r])) ++r;
      if (src_.compare(r, 6, "endraw") != 0) continue;
      r += 6;
      while (r < src_.size() && IsSpace(src_[r])) ++r;
      char end_sign = '\0';
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) end_sign = src_[r++];
      if (src_.compare(r, 2, "%}") != 0) continue;
      std::string body = src_.substr(p, q - p);
      if (sign == '-') {
        while (!body.empty() && IsSpace(body.back())) body.pop_back();
      }
      Emit(TokenKind::kText, std::move(body), LineAt(p));
      pos_ = r + 2;
      line_starting = AfterTagEnd(end_sign, true);
      return true;
    }
    ThrowInvalid("unclosed {% raw %} block (no {% endraw %})", LineAt(tag));
  }

  // Expression tokens up to "%}" (block) or "}}" (variable). Returns line_starting.
  bool LexTag(bool block, size_t tag) {
    const int begin_line = LineAt(tag);
    Emit(block ? TokenKind::kBlockBegin : TokenKind::kVariableBegin, "", begin_line);
    int depth = 0;  // open brackets: "}}" inside {{ {'a': {}} }} is not the end
    const char close = block ? '%' : '}';
    while (true) {
      if (pos_ >= src_.size()) {
        ThrowInvalid(std::string("unclosed ") + (block ? "{% tag" : "{{ expression") +
                         " (missing '" + (block ? "%}" : "}}") + "')",
                     begin_line);
      }
      const char c = src_[pos_];
      // The end of the tag, checked before anything else as Jinja's lexer does.
      if (depth == 0 || block) {
        char strip = '\0';
        size_t p = pos_;
        if ((c == '-' || c == '+') && p + 2 < src_.size() && src_[p + 1] == close &&
            src_[p + 2] == '}') {
          strip = c;
          ++p;
        }
        if (p + 1 < src_.size() && src_[p] == close && src_[p + 1] == '}' &&
            (depth == 0 || block)) {
          Emit(block ? TokenKind::kBlockEnd : TokenKind::kVariableEnd, "", LineAt(pos_));
          pos_ = p + 2;
          return AfterTagEnd(strip, block);
        }
      }
      if (IsSpace(c)) {
        ++pos_;
        continue;
      }
      const int line = LineAt(pos_);
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        const size_t start = pos_;
        while (pos_ < src_.size() &&
               (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) {
          ++pos_;
        }
        Emit(TokenKind::kName, src_.substr(start, pos_ - start), line);
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        LexNumber(line);
      } else if (c == '\'' || c == '"') {
        LexString(line);
      } else {
        static constexpr const char* kTwoChar[] = {"//", "**", "==", "!=", "<=", ">="};
        std::string op(1, c);
        for (const char* two : kTwoChar) {
          if (src_.compare(pos_, 2, two) == 0) op = two;
        }
        if (op.size() == 1 &&
            std::string_view("+-*/%~[](){}<>=.:|,;").find(c) == std::string_view::npos) {
          ThrowInvalid(std::string("unexpected character '") + c + "' in a tag", line);
        }
        if (c == '(' || c == '[' || c == '{') ++depth;
        if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
        pos_ += op.size();
        Emit(TokenKind::kOperator, std::move(op), line);
      }
    }
  }

  void LexNumber(int line) {
    const size_t start = pos_;
    const auto digits = [&] {
      while (pos_ < src_.size() &&
             (std::isdigit(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) {
        ++pos_;
      }
    };
    digits();
    bool is_float = false;
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' &&
        std::isdigit(static_cast<unsigned char>(src_[pos_ + 1]))) {
      is_float = true;
      ++pos_;
      digits();
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
      if (p < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p]))) {
        is_float = true;
        pos_ = p;
        digits();
      }
    }
    std::string text;
    for (size_t i = start; i < pos_; ++i) {
      if (src_[i] != '_') text += src_[i];
    }
    Emit(is_float ? TokenKind::kFloat : TokenKind::kInteger, std::move(text), line);
  }

  // A Python string literal, decoded as Jinja does (unicode-escape).
  void LexString(int line) {
    const char quote = src_[pos_++];
    std::string value;
    while (true) {
      if (pos_ >= src_.size()) ThrowInvalid("unterminated string literal", line);
      const char c = src_[pos_++];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        continue;
      }
      if (pos_ >= src_.size()) ThrowInvalid("unterminated string literal", line);
      const char e = src_[pos_++];
      switch (e) {
        case '\n': break;
        case '\\':
        case '\'':
        case '"': value += e; break;
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case 'a': value += '\a'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'v': value += '\v'; break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t n = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
          uint32_t cp = 0;
          for (size_t i = 0; i < n; ++i) {
            if (pos_ >= src_.size() || !std::isxdigit(static_cast<unsigned char>(src_[pos_]))) {
              ThrowInvalid(std::string("truncated \\") + e + " escape in a string literal", line);
            }
            const char h = src_[pos_++];
            cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                     ? h - '0'
                                                     : (std::tolower(h) - 'a' + 10));
          }
          if (cp > 0x10ffff) ThrowInvalid("escape past U+10FFFF in a string literal", line);
          AppendUtf8(cp, value);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int i = 0; i < 2 && pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '7';
                 ++i) {
              cp = cp * 8 + static_cast<uint32_t>(src_[pos_++] - '0');
            }
            AppendUtf8(cp, value);
          } else if (e == 'N') {
            ThrowUnsupported("\\N{...} escapes in string literals are not supported", line);
          } else {
            value += '\\';  // Python keeps unknown escapes as written
            value += e;
          }
      }
    }
    Emit(TokenKind::kString, std::move(value), line);
  }

  std::string src_;
  LexerOptions options_;
  size_t pos_ = 0;
  size_t line_pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> Tokenize(std::string_view source, const LexerOptions& options) {
  Lexer lexer(Lexer::Normalize(source, options.keep_trailing_newline), options);
  return lexer.Run();
}

}  // namespace dsinfer::tokenizer::jinja
