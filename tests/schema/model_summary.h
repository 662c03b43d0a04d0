#pragma once

// What a bound schema tells the data API beyond its DDL, as text, for the `model` cases of
// tests/schema/**/*.test (see schema_test_runner.cc): per model its @@gate and row policies,
// per field its default, @updatedAt, @updatedBy, @omit, @guarded, @secret and field policies.
// Policy expressions are printed fully parenthesized, so that the text shows the tree. Test
// code only; pure.

#include <string>

#include "schema/model.h"

namespace quarry::schema {

// One "model <name>" line per model, in order, each followed by indented lines:
//   @@gate read <level>, create <level>, update <level>, delete <level>
//   @@allow <operation>: <expr> [message "..."]     (@@deny likewise)
//   <field>: default <value>, updatedAt, updatedBy auth().<claim>, omit[(all)], ...
//   <field> @allow <operation>: <expr>
// Lines are left out where there is nothing to show.
std::string ModelSummary(const Schema& schema);

}  // namespace quarry::schema
