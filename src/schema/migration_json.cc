#include "schema/migration_json.h"

namespace quarry::schema {

namespace json = boost::json;

namespace {

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

std::string StringOr(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

json::object MigrationRequestJson(const MigrationSet& set, bool force) {
  json::array list;
  for (const auto& migration : set.migrations) {
    list.push_back(json::object{{"id", migration.id}, {"sql", migration.text}});
  }
  json::object body{{"format", FormatName(set.format)}, {"migrations", std::move(list)}};
  if (force) {
    body.emplace("force", true);
  }
  return body;
}

Result<MigrationSet> MigrationSetFromJson(const json::object& body, bool* force) {
  MigrationFormat format = MigrationFormat::kQuarry;
  if (const json::value* v = body.if_contains("format")) {
    if (!v->is_string()) {
      return Invalid("\"format\" must be \"quarry\", \"drizzle\" or \"plain\"");
    }
    QUARRY_ASSIGN_OR_RETURN(format, ParseFormat(v->get_string()));
  }
  const json::value* list = body.if_contains("migrations");
  if (list == nullptr || !list->is_array()) {
    return Invalid("request body needs a \"migrations\" array of {\"id\", \"sql\"}");
  }
  std::vector<MigrationSource> sources;
  for (size_t i = 0; i < list->get_array().size(); ++i) {
    const json::object* item = list->get_array()[i].if_object();
    std::string at = "migrations[" + std::to_string(i) + "]";
    if (item == nullptr) {
      return Invalid(at + " must be an object {\"id\", \"sql\"}");
    }
    const json::value* id = item->if_contains("id");
    const json::value* sql = item->if_contains("sql");
    if (id == nullptr || !id->is_string()) {
      return Invalid(at + " needs a string \"id\"");
    }
    if (sql == nullptr || !sql->is_string()) {
      return Invalid(at + " needs a string \"sql\"");
    }
    sources.push_back({std::string(id->get_string()), std::string(sql->get_string())});
  }
  if (const json::value* v = body.if_contains("force"); v != nullptr && force != nullptr) {
    if (!v->is_bool()) {
      return Invalid("\"force\" must be true or false");
    }
    *force = v->get_bool();
  }
  return MakeMigrationSet(format, sources);
}

json::array RecordedJson(const std::vector<AppliedMigration>& applied) {
  json::array out;
  for (const auto& row : applied) {
    out.push_back(json::object{{"id", row.id},
                               {"checksum", row.checksum},
                               {"applied_at", row.applied_at_ms},
                               {"format", row.format}});
  }
  return out;
}

Result<std::vector<AppliedMigration>> RecordedFromJson(const json::value& value) {
  if (!value.is_array()) {
    return Invalid("expected an array of recorded migrations");
  }
  std::vector<AppliedMigration> out;
  for (const auto& item : value.get_array()) {
    const json::object* obj = item.if_object();
    if (obj == nullptr || StringOr(*obj, "id").empty()) {
      return Invalid("a recorded migration has no \"id\"");
    }
    AppliedMigration row;
    row.id = StringOr(*obj, "id");
    row.checksum = StringOr(*obj, "checksum");
    row.format = StringOr(*obj, "format");
    if (const json::value* at = obj->if_contains("applied_at"); at && at->is_number()) {
      row.applied_at_ms = at->to_number<int64_t>();
    }
    out.push_back(std::move(row));
  }
  return out;
}

json::array StatusesJson(const std::vector<MigrationStatus>& statuses) {
  json::array out;
  for (const auto& s : statuses) {
    json::object item{{"id", s.id}, {"state", StateName(s.state)}};
    item.emplace("checksum", s.checksum.empty() ? json::value(nullptr) : json::value(s.checksum));
    item.emplace("applied_checksum", s.applied_checksum.empty() ? json::value(nullptr)
                                                                : json::value(s.applied_checksum));
    item.emplace("applied_at",
                 s.applied_at_ms == 0 ? json::value(nullptr) : json::value(s.applied_at_ms));
    out.push_back(std::move(item));
  }
  return out;
}

json::object FailureJson(const MigrationFailure& failure) {
  return json::object{{"migration", failure.migration_id},
                      {"statement", failure.statement},
                      {"sql", failure.sql},
                      {"error", failure.message}};
}

json::object NamespaceMigrationsJson(const NamespaceMigrations& ns) {
  json::array applied_now;
  for (const auto& id : ns.applied_now) {
    applied_now.push_back(json::value(id));
  }
  json::object out{{"name", ns.ns},
                   {"applied_now", std::move(applied_now)},
                   {"recorded", RecordedJson(ns.recorded)},
                   {"migrations", StatusesJson(ns.statuses)}};
  if (ns.status.ok()) {
    out.emplace("error", nullptr);
  } else {
    out.emplace("error",
                json::object{{"message", ns.status.message()}, {"code", ns.status.WireCode()}});
  }
  return out;
}

}  // namespace quarry::schema
