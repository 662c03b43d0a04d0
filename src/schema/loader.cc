#include "schema/loader.h"

#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "schema/lexer.h"
#include "schema/parser.h"

namespace quarry::schema {

FileReader DiskFileReader() {
  return [](const std::string& path) -> Result<std::string> {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      return Status(ErrorCode::kNotFound, "is a directory");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return Status(ErrorCode::kNotFound, std::strerror(errno));
    }
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) {
      return Status(ErrorCode::kNotFound, "read error");
    }
    return content.str();
  };
}

Result<ast::Program> LoadSchema(const std::string& root_path, const FileReader& reader) {
  ast::Program program;
  std::string root = std::filesystem::path(root_path).lexically_normal().string();
  Result<std::string> root_text = reader(root);
  if (!root_text.ok()) {
    return Status(ErrorCode::kNotFound,
                  "cannot read schema file " + root_path + ": " + root_text.status().message());
  }
  QUARRY_ASSIGN_OR_RETURN(ast::File root_file, ParseSchema(*root_text, root));
  std::set<std::string> seen{root};
  // Files whose imports are still to be followed, by index into program.files; breadth first,
  // so there is no recursion however deep the import chain.
  std::deque<size_t> pending{0};
  program.files.push_back(std::move(root_file));
  while (!pending.empty()) {
    size_t index = pending.front();
    pending.pop_front();
    // Copy what is needed: program.files grows below.
    std::string importer = program.files[index].path;
    std::vector<ast::Import> imports;
    for (const auto& decl : program.files[index].declarations) {
      if (const auto* import = std::get_if<ast::Import>(&decl)) {
        imports.push_back(ast::Import{import->path, import->pos, import->path_pos, {}});
      }
    }
    std::filesystem::path base = std::filesystem::path(importer).parent_path();
    for (const auto& import : imports) {
      if (import.path.empty()) {
        return SyntaxError(importer, import.path_pos, "the imported file's path is empty");
      }
      std::filesystem::path target(import.path);
      std::string resolved =
          (target.is_absolute() ? target : base / target).lexically_normal().string();
      if (!seen.insert(resolved).second) continue;
      if (program.files.size() >= kMaxSchemaFiles) {
        return SyntaxError(
            importer, import.path_pos,
            "too many schema files (more than " + std::to_string(kMaxSchemaFiles) + ")");
      }
      Result<std::string> text = reader(resolved);
      if (!text.ok()) {
        return SyntaxError(importer, import.path_pos,
                           "cannot read imported file \"" + import.path + "\" (" + resolved +
                               "): " + text.status().message());
      }
      QUARRY_ASSIGN_OR_RETURN(ast::File file, ParseSchema(*text, resolved));
      program.files.push_back(std::move(file));
      pending.push_back(program.files.size() - 1);
    }
  }
  return program;
}

}  // namespace quarry::schema
