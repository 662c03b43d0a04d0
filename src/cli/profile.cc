#include "cli/profile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace quarry::cli {

namespace fs = std::filesystem;

fs::path ProfilePath() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] != '\0') {
    return fs::path(xdg) / "quarry" / "profile.toml";
  }
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') {
    return fs::path(home) / ".config" / "quarry" / "profile.toml";
  }
  return {};
}

std::string NormalizeServerUrl(std::string url) {
  while (url.size() > 1 && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

Result<std::optional<Profile>> LoadProfile(const fs::path& path) {
  std::error_code ec;
  if (path.empty() || !fs::exists(path, ec)) {
    return std::optional<Profile>();
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    return Status(ErrorCode::kInvalidArgument, "cannot read profile " + path.string());
  }
  std::string source = "profile " + path.string();
  std::string hint = " (run quarry login again, or quarry logout to remove it)";
  toml::table table;
#if TOML_EXCEPTIONS
  try {
    table = toml::parse(text.str(), path.string());
  } catch (const toml::parse_error& e) {
    return Status(ErrorCode::kInvalidArgument, source + ":" +
                                                   std::to_string(e.source().begin.line) + ": " +
                                                   std::string(e.description()) + hint);
  }
#else
  toml::parse_result result = toml::parse(text.str(), path.string());
  if (!result) {
    return Status(ErrorCode::kInvalidArgument,
                  source + ":" + std::to_string(result.error().source().begin.line) + ": " +
                      std::string(result.error().description()) + hint);
  }
  table = std::move(result).table();
#endif
  Profile profile;
  auto url = table["url"].value<std::string>();
  if (!url || url->empty()) {
    return Status(
        ErrorCode::kInvalidArgument,
        "profile " + path.string() + " has no url = \"http://HOST:PORT\"; run quarry login again");
  }
  profile.url = NormalizeServerUrl(*url);
  profile.token = table["token"].value_or(std::string());
  profile.ca_file = table["ca_file"].value_or(std::string());
  return std::optional<Profile>(std::move(profile));
}

Status SaveProfile(const fs::path& path, const Profile& profile) {
  std::error_code ec;
  fs::path dir = path.parent_path();
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) {
      return Status(ErrorCode::kInternal, "cannot create " + dir.string() + ": " + ec.message());
    }
    ::chmod(dir.c_str(), 0700);
  }
  toml::table table{{"url", NormalizeServerUrl(profile.url)}, {"token", profile.token}};
  if (!profile.ca_file.empty()) {
    table.insert("ca_file", profile.ca_file);
  }
  std::ostringstream text;
  text << "# Written by `quarry login`; used by quarry commands given no --url or --token.\n"
       << table << "\n";
  std::string body = text.str();
  fs::path temp = path;
  temp += ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status(ErrorCode::kInternal,
                  "cannot write " + temp.string() + ": " + std::strerror(errno));
  }
  bool written = ::fchmod(fd, 0600) == 0 &&
                 ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) &&
                 ::fsync(fd) == 0;
  int saved_errno = errno;
  ::close(fd);
  if (!written || ::rename(temp.c_str(), path.c_str()) != 0) {
    if (written) {
      saved_errno = errno;
    }
    ::unlink(temp.c_str());
    return Status(ErrorCode::kInternal,
                  "cannot write " + path.string() + ": " + std::strerror(saved_errno));
  }
  return Status::Ok();
}

Result<bool> RemoveProfile(const fs::path& path) {
  std::error_code ec;
  bool removed = !path.empty() && fs::remove(path, ec);
  if (ec) {
    return Status(ErrorCode::kInternal, "cannot remove " + path.string() + ": " + ec.message());
  }
  return removed;
}

}  // namespace quarry::cli
