#include "schema/migration_folder.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "schema/migration_sql.h"

namespace quarry::schema {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Invalid("cannot read " + path.string());
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) {
    return Invalid("error reading " + path.string());
  }
  return out.str();
}

size_t LeadingDigits(std::string_view name) {
  size_t n = 0;
  while (n < name.size() && std::isdigit(static_cast<unsigned char>(name[n]))) {
    ++n;
  }
  return n;
}

bool IsLabelChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// "<digits>_<label>" with a non-empty label of label characters.
bool HasNumberedShape(std::string_view stem, size_t digits) {
  if (digits == 0 || digits + 1 >= stem.size() || stem[digits] != '_') {
    return false;
  }
  return std::all_of(stem.begin() + digits + 1, stem.end(), IsLabelChar);
}

Result<MigrationSet> ReadDrizzleFolder(const fs::path& dir) {
  fs::path journal_path = dir / "meta" / "_journal.json";
  QUARRY_ASSIGN_OR_RETURN(std::string journal_text, ReadFile(journal_path));
  const std::string where = journal_path.string();
  boost::system::error_code ec;
  json::value journal = json::parse(journal_text, ec);
  if (ec) {
    return Invalid(where + ": not valid JSON (" + ec.message() + ")");
  }
  if (!journal.is_object()) {
    return Invalid(where + ": expected a JSON object with \"entries\"");
  }
  if (const json::value* dialect = journal.get_object().if_contains("dialect")) {
    if (!dialect->is_string() ||
        (dialect->get_string() != "sqlite" && dialect->get_string() != "turso")) {
      return Invalid(where + ": \"dialect\" is " + json::serialize(*dialect) +
                     "; only sqlite (or turso) drizzle-kit folders apply to SQLite");
    }
  }
  const json::value* entries = journal.get_object().if_contains("entries");
  if (entries == nullptr || !entries->is_array()) {
    return Invalid(where + ": expected an \"entries\" array");
  }
  struct Entry {
    int64_t idx;
    std::string tag;
    bool breakpoints;
    int64_t when_ms;
  };
  std::vector<Entry> list;
  for (size_t i = 0; i < entries->get_array().size(); ++i) {
    const json::value& item = entries->get_array()[i];
    std::string at = where + ": entries[" + std::to_string(i) + "]";
    const json::object* obj = item.if_object();
    if (obj == nullptr) {
      return Invalid(at + " is not an object");
    }
    const json::value* tag = obj->if_contains("tag");
    if (tag == nullptr || !tag->is_string() || tag->get_string().empty()) {
      return Invalid(at + " needs a string \"tag\" (the migration file name without .sql)");
    }
    const json::value* idx = obj->if_contains("idx");
    if (idx == nullptr || !idx->is_int64()) {
      return Invalid(at + " needs an integer \"idx\"");
    }
    bool breakpoints = true;
    if (const json::value* bp = obj->if_contains("breakpoints")) {
      if (!bp->is_bool()) {
        return Invalid(at + ": \"breakpoints\" must be true or false");
      }
      breakpoints = bp->get_bool();
    }
    std::string tag_text(tag->get_string());
    if (tag_text.find('/') != std::string::npos || tag_text.find('\\') != std::string::npos ||
        tag_text == "." || tag_text == "..") {
      return Invalid(at + ": \"tag\" must be a file name, not \"" + tag_text + "\"");
    }
    int64_t when_ms = 0;
    if (const json::value* when = obj->if_contains("when")) {
      if (!when->is_int64()) {
        return Invalid(at + ": \"when\" must be an integer (Unix milliseconds)");
      }
      when_ms = when->get_int64();
    }
    list.push_back({idx->get_int64(), std::move(tag_text), breakpoints, when_ms});
  }
  std::stable_sort(list.begin(), list.end(),
                   [](const Entry& a, const Entry& b) { return a.idx < b.idx; });
  MigrationSet set;
  set.format = MigrationFormat::kDrizzle;
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    const Entry& entry = list[i];
    if (i > 0 && list[i - 1].idx == entry.idx) {
      return Invalid(where + ": two entries have idx " + std::to_string(entry.idx));
    }
    if (!seen.insert(entry.tag).second) {
      return Invalid(where + ": tag \"" + entry.tag + "\" appears twice");
    }
    fs::path file = dir / (entry.tag + ".sql");
    std::error_code exists_ec;
    if (!fs::is_regular_file(file, exists_ec)) {
      return Invalid(where + ": entry \"" + entry.tag + "\" has no file " + file.string());
    }
    QUARRY_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
    Migration migration;
    migration.id = entry.tag;
    migration.source = file.string();
    migration.checksum = Sha256Hex(text);
    migration.when_ms = entry.when_ms;
    migration.up = entry.breakpoints ? SplitDrizzleStatements(text) : SplitStatements(text);
    migration.text = std::move(text);
    set.migrations.push_back(std::move(migration));
  }
  return set;
}

}  // namespace

std::string_view FormatName(MigrationFormat format) {
  switch (format) {
    case MigrationFormat::kQuarry:
      return "quarry";
    case MigrationFormat::kDrizzle:
      return "drizzle";
    case MigrationFormat::kPlain:
      return "plain";
  }
  return "quarry";
}

Result<MigrationFormat> ParseFormat(std::string_view name) {
  if (name == "quarry") {
    return MigrationFormat::kQuarry;
  }
  if (name == "drizzle") {
    return MigrationFormat::kDrizzle;
  }
  if (name == "plain") {
    return MigrationFormat::kPlain;
  }
  return Invalid("unknown migration format \"" + std::string(name) +
                 "\"; expected \"quarry\", \"drizzle\" or \"plain\"");
}

const Migration* MigrationSet::Find(std::string_view id) const {
  for (const auto& migration : migrations) {
    if (migration.id == id) {
      return &migration;
    }
  }
  return nullptr;
}

Result<Migration> MakeMigration(MigrationFormat format, std::string id, std::string source,
                                std::string text) {
  Migration migration;
  migration.id = std::move(id);
  migration.source = std::move(source);
  migration.checksum = Sha256Hex(text);
  switch (format) {
    case MigrationFormat::kQuarry: {
      QUARRY_ASSIGN_OR_RETURN(UpDown parts, SplitDownSection(text, migration.source));
      migration.up = SplitStatements(parts.up);
      QUARRY_ASSIGN_OR_RETURN(migration.schema, ExtractSchemaSnapshot(parts.up, migration.source));
      // A migration that only records a schema changes no table: undoing it runs nothing.
      migration.has_down = migration.has_down || (migration.schema && migration.up.empty());
      if (parts.down) {
        migration.down = SplitStatements(*parts.down);
        migration.has_down = !migration.down.empty();
      }
      break;
    }
    case MigrationFormat::kDrizzle:
      migration.up = SplitDrizzleStatements(text);
      break;
    case MigrationFormat::kPlain:
      migration.up = SplitStatements(text);
      break;
  }
  migration.text = std::move(text);
  return migration;
}

Result<MigrationSet> ReadMigrationFolder(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Invalid("migrations folder " + dir.string() + " does not exist");
  }
  if (fs::exists(dir / "meta" / "_journal.json", ec)) {
    return ReadDrizzleFolder(dir);
  }
  // file stem -> path, sorted by name
  std::map<std::string, fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".sql") {
      files.emplace(entry.path().stem().string(), entry.path());
    }
  }
  if (ec) {
    return Invalid("cannot list " + dir.string() + ": " + ec.message());
  }
  const fs::path* quarry_file = nullptr;
  const fs::path* plain_file = nullptr;
  for (const auto& [stem, path] : files) {
    size_t digits = LeadingDigits(stem);
    if (!HasNumberedShape(stem, digits)) {
      return Invalid(path.string() +
                     ": not a migration file name; expected <YYYYMMDDHHMMSS>_<label>.sql "
                     "(Quarry) or <NNNN>_<label>.sql (plain), label of letters, digits, _ and -");
    }
    (digits == 14 ? quarry_file : plain_file) = &path;
  }
  if (quarry_file != nullptr && plain_file != nullptr) {
    return Invalid(dir.string() + " mixes Quarry-format files (" +
                   quarry_file->filename().string() + ") with plain numbered files (" +
                   plain_file->filename().string() + "); keep one format per folder");
  }
  bool all_quarry = plain_file == nullptr;
  MigrationSet set;
  set.format = all_quarry ? MigrationFormat::kQuarry : MigrationFormat::kPlain;
  std::vector<std::pair<std::string, fs::path>> ordered(files.begin(), files.end());
  if (set.format == MigrationFormat::kPlain) {
    // By number, so 10_x follows 9_x even without zero padding; ties by name.
    auto number = [](const std::string& stem) {
      std::string digits = stem.substr(0, LeadingDigits(stem));
      digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
      return digits;
    };
    std::stable_sort(ordered.begin(), ordered.end(), [&](const auto& a, const auto& b) {
      std::string na = number(a.first);
      std::string nb = number(b.first);
      if (na.size() != nb.size()) {
        return na.size() < nb.size();
      }
      return na != nb ? na < nb : a.first < b.first;
    });
  }
  for (const auto& [stem, path] : ordered) {
    QUARRY_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    QUARRY_ASSIGN_OR_RETURN(Migration migration,
                            MakeMigration(set.format, stem, path.string(), std::move(text)));
    set.migrations.push_back(std::move(migration));
  }
  return set;
}

Result<MigrationSet> MakeMigrationSet(MigrationFormat format,
                                      const std::vector<MigrationSource>& sources) {
  MigrationSet set;
  set.format = format;
  std::set<std::string> seen;
  for (size_t i = 0; i < sources.size(); ++i) {
    const auto& source = sources[i];
    std::string where = "migrations[" + std::to_string(i) + "]";
    if (source.id.empty()) {
      return Invalid(where + " needs a non-empty \"id\"");
    }
    if (!seen.insert(source.id).second) {
      return Invalid(where + ": id \"" + source.id + "\" appears twice");
    }
    QUARRY_ASSIGN_OR_RETURN(Migration migration,
                            MakeMigration(format, source.id, source.id, source.text));
    set.migrations.push_back(std::move(migration));
  }
  return set;
}

std::string MigrationTimestamp(std::chrono::system_clock::time_point when) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%d%H%M%S", &tm);
  return buf;
}

Result<fs::path> CreateMigrationFile(const fs::path& dir, std::string_view label,
                                     std::string_view up_sql, std::string_view down_sql,
                                     std::chrono::system_clock::time_point now,
                                     const std::optional<std::string>& schema) {
  if (label.empty() || !std::all_of(label.begin(), label.end(), IsLabelChar)) {
    return Invalid("migration label \"" + std::string(label) +
                   "\" must be letters, digits, '_' and '-' (e.g. add_users)");
  }
  std::error_code ec;
  auto timestamp = std::chrono::time_point_cast<std::chrono::seconds>(now);
  if (fs::exists(dir, ec)) {
    QUARRY_ASSIGN_OR_RETURN(MigrationSet existing, ReadMigrationFolder(dir));
    if (existing.format != MigrationFormat::kQuarry) {
      return Invalid(dir.string() + " holds " + std::string(FormatName(existing.format)) +
                     "-format migrations; create new ones with the tool that made them");
    }
    if (!existing.migrations.empty()) {
      std::string newest = existing.migrations.back().id.substr(0, 14);
      while (MigrationTimestamp(timestamp) <= newest) {
        timestamp += std::chrono::seconds(1);
      }
    }
  } else if (!fs::create_directories(dir, ec) && ec) {
    return Invalid("cannot create " + dir.string() + ": " + ec.message());
  }
  std::string id = MigrationTimestamp(timestamp) + "_" + std::string(label);
  fs::path path = dir / (id + ".sql");
  std::string text = "-- Migration " + id + ".\n";
  if (up_sql.empty() && !schema) {
    text +=
        "-- Write the change below. Statements end with ';'. The part after the \"-- down\"\n"
        "-- line undoes the change for `quarry migrate down`; leave it empty if it cannot.\n\n";
  } else if (!up_sql.empty()) {
    text += "\n" + std::string(up_sql);
    if (text.back() != '\n') {
      text += "\n";
    }
  }
  if (schema) {
    text +=
        "\n-- The schema this migration brings the database to, recorded as the namespace's\n"
        "-- schema when it applies. Keep it as it is.\n";
    text += SchemaSnapshotComment(*schema);
  }
  text += "\n-- down\n";
  if (!down_sql.empty()) {
    text += "\n" + std::string(down_sql);
    if (text.back() != '\n') {
      text += "\n";
    }
  }
  // Exclusive create: never overwrite.
  std::FILE* file = std::fopen(path.c_str(), "wx");
  if (file == nullptr) {
    return Invalid("cannot create " + path.string() + " (it may already exist)");
  }
  bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  written = std::fclose(file) == 0 && written;
  if (!written) {
    return Invalid("error writing " + path.string());
  }
  return path;
}

}  // namespace quarry::schema
