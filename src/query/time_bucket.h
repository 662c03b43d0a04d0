#pragma once

// Time buckets for groupBy's `interval`: the SQL that puts an ISO-8601 date-time (a DateTime
// column's text) into its year, quarter, month, week, day or hour, all in UTC (a value with an
// offset is converted first, as SQLite's date functions do). A value that is NULL or no
// date-time has no bucket (NULL).
//
// Labels, which sort in time order: "2024", "2024-Q1", "2024-01", "2024-W03" (ISO-8601 weeks:
// they start on Monday, and week 1 is the one holding the year's first Thursday, so the year of
// a week label is the ISO year: 2024-12-30 is in "2025-W01"), "2024-01-05", "2024-01-05T13".

#include <optional>
#include <string>
#include <string_view>

#include "query/sql_builder.h"

namespace quarry::query {

enum class Interval { kYear, kQuarter, kMonth, kWeek, kDay, kHour };

// "year", "quarter", "month", "week", "day", "hour"; nullopt for anything else.
std::optional<Interval> ParseInterval(std::string_view unit);

// Appends the label of the bucket holding the date-time `x` (an expression; appended as often
// as needed, with its parameters).
void AppendLabel(SqlBuilder& sql, Interval interval, const SqlBuilder& x);

// Appends the start of the bucket holding `x`, as text that sorts in time order ('2024-04-01',
// or '2024-01-05 13:00:00' for hours). AppendLabel of a start is the bucket's label.
void AppendBucketStart(SqlBuilder& sql, Interval interval, const SqlBuilder& x);

// The SQL of the start of the bucket after the one starting at `start` (an expression without
// parameters, such as a column).
std::string NextBucket(Interval interval, const std::string& start);

}  // namespace quarry::query
