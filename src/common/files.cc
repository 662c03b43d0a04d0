#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/base64.h"
#include "common/random.h"

namespace quarry {
namespace {

Status FileError(std::string_view action, const std::filesystem::path& path, int err) {
  std::string message(action);
  message += " ";
  message += path.string();
  message += ": ";
  message += std::strerror(err);
  return Status(ErrorCode::kInternal, std::move(message));
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }
  // Closes now, reporting the error close() gives (it can report a failed write-back).
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// Writes `contents` to a new file at `path` with exactly `mode`, then fsyncs it. Fails if
// `path` exists.
Status WriteNewFile(const std::filesystem::path& path, std::string_view contents, mode_t mode) {
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) {
    return FileError("cannot create", path, errno);
  }
  // The umask may have cleared bits from `mode`; it cannot have added any.
  if (::fchmod(fd.get(), mode) != 0) {
    return FileError("cannot set the mode of", path, errno);
  }
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(fd.get(), contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return FileError("cannot write", path, errno);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    return FileError("cannot sync", path, errno);
  }
  if (fd.Close() != 0) {
    return FileError("cannot close", path, errno);
  }
  return Status::Ok();
}

}  // namespace

Status SyncDirectory(const std::filesystem::path& dir) {
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    return FileError("cannot sync directory", dir, errno);
  }
  return Status::Ok();
}

namespace {

// A name for a temporary file beside `target`, unique across processes.
std::filesystem::path TempPathFor(const std::filesystem::path& target) {
  std::string suffix = Base64UrlEncode(RandomBytes(9));
  return target.parent_path() / (target.filename().string() + ".tmp-" + suffix);
}

}  // namespace

Status ReplaceFile(const std::filesystem::path& path, std::string_view contents, mode_t mode) {
  std::filesystem::path temp = TempPathFor(path);
  Status written = WriteNewFile(temp, contents, mode);
  if (written.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    written = FileError("cannot rename into place", path, errno);
  }
  if (!written.ok()) {
    ::unlink(temp.c_str());
    return written;
  }
  return SyncDirectory(path.parent_path());
}

Result<Created> CreateFileOnce(const std::filesystem::path& path, std::string_view contents,
                               mode_t mode) {
  std::filesystem::path temp = TempPathFor(path);
  QUARRY_RETURN_IF_ERROR(WriteNewFile(temp, contents, mode));
  int rc = ::link(temp.c_str(), path.c_str());
  int err = errno;
  ::unlink(temp.c_str());
  if (rc != 0) {
    if (err == EEXIST) {
      return Created::kAlreadyExisted;
    }
    return FileError("cannot link into place", path, err);
  }
  QUARRY_RETURN_IF_ERROR(SyncDirectory(path.parent_path()));
  return Created::kCreated;
}

Result<std::string> ReadSmallFile(const std::filesystem::path& path, size_t max_bytes,
                                  std::string_view what) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return FileError("cannot open", path, errno);
  }
  std::string contents;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return FileError("cannot read", path, errno);
    }
    if (n == 0) {
      break;
    }
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > max_bytes) {
      return Status(ErrorCode::kInternal,
                    std::string(what) + " " + path.string() + " is too large");
    }
  }
  return contents;
}

}  // namespace quarry
