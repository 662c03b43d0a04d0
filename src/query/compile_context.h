#pragma once

// What every stage of compiling one data-API request shares: the schema, the caller, the
// request's now(), fresh table aliases, and how cursors are signed. One per request; not shared
// between threads.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "query/identity.h"
#include "query/sql_builder.h"
#include "schema/model.h"

namespace quarry::query {

// Signs cursor payloads: returns a MAC of `payload` under the server's secret.
using CursorSigner = std::function<std::string(std::string_view payload)>;

struct CompileContext {
  const schema::Schema& schema;
  const Identity& identity;
  std::string now;  // ISO-8601 UTC with milliseconds: what now() is for the whole request
  CursorSigner sign_cursor;
  int next_alias = 0;
  // Compiled reads are looked up here first (null: no caching). `schema_generation` tells
  // schemas apart: a new one for every schema the server loads.
  class PlanCache* plans = nullptr;
  uint64_t schema_generation = 0;
  // Models whose read @@gate a compilation passed, in order (see CompiledRead::gated).
  std::vector<const schema::Model*> read_gates;

  std::string NewAlias() { return "t" + std::to_string(next_alias++); }
};

// `at` as now() reads it: ISO-8601 UTC with milliseconds ("2024-01-01T00:00:00.000Z").
std::string IsoNow(std::chrono::system_clock::time_point at);

// kInvalidArgument with `path` attached.
Status ArgError(const std::string& path, std::string message);
// "where.age" from "where" and "age".
std::string JoinPath(const std::string& parent, std::string_view child);

// The model a relation field points to; never null in a bound schema.
const schema::Model& Target(const CompileContext& ctx, const schema::Field& relation_field);

// Appends the condition joining `from` (alias `from_alias`) to the target of its relation field
// `field` (alias `to_alias`): to.ref = from.fk for the owning side, to.fk = from.ref otherwise.
void JoinCondition(const CompileContext& ctx, SqlBuilder& sql, const schema::Model& from,
                   const schema::Field& field, std::string_view from_alias,
                   std::string_view to_alias);

// The model's `deletedAt` field when it is a @@softDelete model, else null.
const schema::Field* SoftDeleteField(const schema::Model& model);

}  // namespace quarry::query
