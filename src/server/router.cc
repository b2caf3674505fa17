#include "server/router.h"

#include <utility>

namespace dsinfer::server {
namespace {

// Whether `path` matches `pattern`; sets `tail` to the "*" segment.
bool Matches(std::string_view pattern, std::string_view path, std::string_view* tail) {
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == "/*") {
    const std::string_view prefix = pattern.substr(0, pattern.size() - 1);  // keeps the '/'
    if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
    const std::string_view rest = path.substr(prefix.size());
    if (rest.find('/') != std::string_view::npos) return false;
    *tail = rest;
    return true;
  }
  *tail = {};
  return pattern == path;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, RouteHandler handler) {
  routes_.push_back({std::move(method), std::move(pattern), std::move(handler)});
}

RouteMatch Router::Find(std::string_view method, std::string_view path) const {
  RouteMatch match{.status = 404, .name = "other"};
  for (const Route& route : routes_) {
    std::string_view tail;
    if (!Matches(route.pattern, path, &tail)) continue;
    match.name = route.pattern;
    match.tail = tail;
    if (route.method == method) {
      match.route = &route;
      match.status = 200;
      return match;
    }
    match.status = 405;
  }
  return match;
}

}  // namespace dsinfer::server
