#include "cli/output_file.h"

#include <filesystem>
#include <fstream>
#include <iostream>

namespace quarry::cli {

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  std::string temp = path + ".quarry-tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      return Status(ErrorCode::kInternal, "cannot write " + temp);
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    return Status(ErrorCode::kInternal, "cannot replace " + path + ": " + ec.message());
  }
  return Status::Ok();
}

int EmitOutput(const std::string& command, const std::string& output, const std::string& text) {
  if (output.empty()) {
    std::cout << text;
    std::cout.flush();
    return std::cout ? 0 : 1;
  }
  Status written = WriteFileAtomically(output, text);
  if (!written.ok()) {
    std::cerr << command << ": " << written.message() << "\n";
    return 1;
  }
  std::cout << "wrote " << output << "\n";
  return 0;
}

}  // namespace quarry::cli
