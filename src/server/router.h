#pragma once

// Router: routes as a table of method + path pattern -> handler, instead of if-chains. A pattern
// is a path of literal segments and `{name}` segments, each matching one non-empty segment:
// "/namespaces/{ns}/fork". Routes are tried in the order they were added, so a literal route
// added before a pattern that also fits it wins. Find answers the handler and the captured
// segments, kNotFound when no pattern fits the path, or kMethodNotAllowed when one fits but not
// with this method (the message names the methods that do). Not thread-safe while routes are
// added; Find may be called from any thread once they are.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace quarry::server {

// The `{name}` segments a route captured.
class PathParams {
 public:
  void Add(std::string_view name, std::string value) {
    params_.emplace_back(std::string(name), std::move(value));
  }
  // The captured segment; empty when the route has no such name.
  const std::string& Get(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

template <typename Handler>
class Router {
 public:
  struct Match {
    const Handler* handler = nullptr;
    PathParams params;
  };

  void Add(std::string method, std::string_view pattern, Handler handler) {
    std::vector<std::string> segments;
    for (std::string_view segment : Split(pattern)) {
      segments.emplace_back(segment);
    }
    routes_.push_back({std::move(method), std::move(segments), std::move(handler)});
  }

  Result<Match> Find(std::string_view method, std::string_view path) const {
    std::vector<std::string_view> segments = Split(path);
    std::string allowed;
    for (const Route& route : routes_) {
      Match match;
      if (!Fits(route, segments, match.params)) {
        continue;
      }
      if (route.method == method) {
        match.handler = &route.handler;
        return match;
      }
      if (allowed.find(route.method) == std::string::npos) {
        allowed += allowed.empty() ? route.method : ", " + route.method;
      }
    }
    if (!allowed.empty()) {
      return Status(ErrorCode::kMethodNotAllowed,
                    "use " + allowed + " on " + std::string(path) + ", not " + std::string(method));
    }
    return Status(ErrorCode::kNotFound,
                  "no route " + std::string(method) + " " + std::string(path.substr(0, 200)));
  }

 private:
  struct Route {
    std::string method;
    std::vector<std::string> pattern;
    Handler handler;
  };

  // Path segments; "/" is no segment, a trailing slash is ignored.
  static std::vector<std::string_view> Split(std::string_view path) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < path.size()) {
      if (path[i] == '/') {
        ++i;
        continue;
      }
      size_t end = path.find('/', i);
      if (end == std::string_view::npos) {
        end = path.size();
      }
      out.push_back(path.substr(i, end - i));
      i = end;
    }
    return out;
  }

  static bool Fits(const Route& route, const std::vector<std::string_view>& segments,
                   PathParams& params) {
    if (route.pattern.size() != segments.size()) {
      return false;
    }
    for (size_t i = 0; i < segments.size(); ++i) {
      std::string_view want = route.pattern[i];
      if (want.size() >= 2 && want.front() == '{' && want.back() == '}') {
        params.Add(want.substr(1, want.size() - 2), std::string(segments[i]));
      } else if (want != segments[i]) {
        return false;
      }
    }
    return true;
  }

  std::vector<Route> routes_;
};

}  // namespace quarry::server
