// Router: (method, path) -> the route that handles it. Paths are exact, or end in "/*" for
// one trailing segment (/v1/models/* matches /v1/models/tiny). A path that exists with other
// methods is 405; anything else is 404. Each route has a fixed name used as the metrics
// label, so label values stay bounded however many distinct paths clients send.
//
// Thread safety: Add during set-up only; Find may then run concurrently.
#ifndef DSINFER_SERVER_ROUTER_H_
#define DSINFER_SERVER_ROUTER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_exchange.h"
#include "server/http_message.h"

namespace dsinfer::server {

using RouteHandler =
    std::function<void(HttpRequest& request, const std::shared_ptr<HttpExchange>& exchange)>;

struct Route {
  std::string method;
  std::string pattern;  // "/v1/models" or "/v1/models/*"
  RouteHandler handler;
};

struct RouteMatch {
  const Route* route = nullptr;  // null: no route; see status
  int status = 200;              // 404 unknown path, 405 known path with another method
  std::string_view name;         // the route's pattern, or "other"
  std::string_view tail;         // the segment "*" matched
};

class Router {
 public:
  void Add(std::string method, std::string pattern, RouteHandler handler);
  RouteMatch Find(std::string_view method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace dsinfer::server

#endif  // DSINFER_SERVER_ROUTER_H_
