#include "server/http_message.h"

#include "base/ascii.h"

namespace dsinfer::server {

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const HttpHeader& header : headers) {
    if (EqualsIgnoreAsciiCase(header.name, name)) return header.value;
  }
  return {};
}

}  // namespace dsinfer::server
