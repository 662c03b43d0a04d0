#pragma once

// Durable small files: written whole or not at all (temporary file, fsync, rename or link,
// directory fsync), for the keys and other state the server keeps beside its databases.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace quarry {

// Writes `contents` to `path` atomically, replacing any file already there: a reader (or a
// restart after a crash) sees the old contents or the new, never a mix. The file gets exactly
// `mode`.
Status ReplaceFile(const std::filesystem::path& path, std::string_view contents, mode_t mode);

enum class Created { kCreated, kAlreadyExisted };
// Writes `contents` to `path` atomically unless `path` exists: the file is linked into place
// only once complete, so no reader ever sees it partial or with a wider mode.
Result<Created> CreateFileOnce(const std::filesystem::path& path, std::string_view contents,
                               mode_t mode);

// The whole file; kInternal naming `what` and the path when it cannot be read or is larger
// than `max_bytes`.
Result<std::string> ReadSmallFile(const std::filesystem::path& path, size_t max_bytes,
                                  std::string_view what);

// Makes a completed rename, link or unlink in `dir` durable.
Status SyncDirectory(const std::filesystem::path& dir);

}  // namespace quarry
