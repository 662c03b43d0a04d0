#include "query/time_bucket.h"

#include <utility>

namespace quarry::query {

std::optional<Interval> ParseInterval(std::string_view unit) {
  static constexpr std::pair<std::string_view, Interval> kUnits[] = {
      {"year", Interval::kYear}, {"quarter", Interval::kQuarter}, {"month", Interval::kMonth},
      {"week", Interval::kWeek}, {"day", Interval::kDay},         {"hour", Interval::kHour}};
  for (auto [name, interval] : kUnits) {
    if (name == unit) {
      return interval;
    }
  }
  return std::nullopt;
}

void AppendLabel(SqlBuilder& sql, Interval interval, const SqlBuilder& x) {
  switch (interval) {
    case Interval::kYear:
      sql << "strftime('%Y', ";
      sql.Append(x);
      sql << ")";
      return;
    case Interval::kQuarter:
      sql << "(strftime('%Y', ";
      sql.Append(x);
      sql << ") || '-Q' || ((CAST(strftime('%m', ";
      sql.Append(x);
      sql << ") AS INTEGER) + 2) / 3))";
      return;
    case Interval::kMonth:
      sql << "strftime('%Y-%m', ";
      sql.Append(x);
      sql << ")";
      return;
    case Interval::kWeek:
      // The ISO year and week are those of the week's Thursday.
      sql << "(strftime('%Y', date(";
      sql.Append(x);
      sql << ", '-3 days', 'weekday 4')) || '-W' || printf('%02d', (CAST(strftime('%j', date(";
      sql.Append(x);
      sql << ", '-3 days', 'weekday 4')) AS INTEGER) - 1) / 7 + 1))";
      return;
    case Interval::kDay:
      sql << "strftime('%Y-%m-%d', ";
      sql.Append(x);
      sql << ")";
      return;
    case Interval::kHour:
      sql << "strftime('%Y-%m-%dT%H', ";
      sql.Append(x);
      sql << ")";
      return;
  }
}

// SQLite's 'weekday N' moves forward to the next weekday N (or stays): from six days before,
// weekday 1 is the Monday starting the week; from three days before, weekday 4 its Thursday.
void AppendBucketStart(SqlBuilder& sql, Interval interval, const SqlBuilder& x) {
  switch (interval) {
    case Interval::kYear:
      sql << "date(";
      sql.Append(x);
      sql << ", 'start of year')";
      return;
    case Interval::kQuarter:
      sql << "date(";
      sql.Append(x);
      sql << ", 'start of month', '-' || ((CAST(strftime('%m', ";
      sql.Append(x);
      sql << ") AS INTEGER) - 1) % 3) || ' months')";
      return;
    case Interval::kMonth:
      sql << "date(";
      sql.Append(x);
      sql << ", 'start of month')";
      return;
    case Interval::kWeek:
      sql << "date(";
      sql.Append(x);
      sql << ", '-6 days', 'weekday 1')";
      return;
    case Interval::kDay:
      sql << "date(";
      sql.Append(x);
      sql << ")";
      return;
    case Interval::kHour:
      sql << "strftime('%Y-%m-%d %H:00:00', ";
      sql.Append(x);
      sql << ")";
      return;
  }
}

std::string NextBucket(Interval interval, const std::string& start) {
  switch (interval) {
    case Interval::kYear:
      return "date(" + start + ", '+1 year')";
    case Interval::kQuarter:
      return "date(" + start + ", '+3 months')";
    case Interval::kMonth:
      return "date(" + start + ", '+1 month')";
    case Interval::kWeek:
      return "date(" + start + ", '+7 days')";
    case Interval::kDay:
      return "date(" + start + ", '+1 day')";
    case Interval::kHour:
      return "datetime(" + start + ", '+1 hour')";
  }
  return start;
}

}  // namespace quarry::query
