// Fuzz target: the schema language, from text to DDL, on one in-memory file (imports resolve to
// nothing, so an import is an error rather than a disk read).
//
// Properties: no crash or hang on any input; a schema that binds produces DDL; formatting is
// idempotent and the formatted text binds to a schema with the same DDL.

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "schema/binder.h"
#include "schema/ddl.h"
#include "schema/formatter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quarry;
  if (size > 64 * 1024) {
    return 0;  // schemas are small; bounded input keeps the fuzzer fast
  }
  std::string text(reinterpret_cast<const char*>(data), size);
  auto reader_for = [](const std::string& root_text) {
    return [root_text](const std::string& path) -> Result<std::string> {
      if (path == "fuzz.schema") {
        return root_text;
      }
      return Status(ErrorCode::kNotFound, "no file " + path);
    };
  };
  auto bound = schema::LoadAndBindSchema("fuzz.schema", reader_for(text));
  auto formatted = schema::FormatSchemaText(text, "fuzz.schema");
  if (!bound.ok()) {
    return 0;
  }
  std::vector<std::string> ddl = schema::GenerateDdl(*bound);
  FUZZ_CHECK(formatted.ok());
  auto twice = schema::FormatSchemaText(*formatted, "fuzz.schema");
  FUZZ_CHECK(twice.ok() && *twice == *formatted);
  auto rebound = schema::LoadAndBindSchema("fuzz.schema", reader_for(*formatted));
  FUZZ_CHECK(rebound.ok());
  FUZZ_CHECK(schema::GenerateDdl(*rebound) == ddl);
  return 0;
}
