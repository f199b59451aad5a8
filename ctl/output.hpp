#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace chatd::ctl {

// What a missing or null value looks like in human output.
inline constexpr std::string_view absent = "-";

// Pretty-printed JSON with a two-space indent and a final newline, like `jq .`.
void print_json(std::ostream& out, const boost::json::value& value);

// A value as a person reads it: strings unquoted, null as "-", compound values as JSON.
std::string text_of(const boost::json::value& value);

// Unix seconds as "YYYY-MM-DD HH:MM:SS" in the local time zone ($TZ, else the system's).
std::string local_time(std::int64_t unix_seconds);

// The field of `object` named `key`, as text; "-" when absent or null.
std::string field_text(const boost::json::object& object, std::string_view key);

// As field_text, but an integer is read as Unix seconds and shown as local_time; --json
// bypasses this and keeps the seconds.
std::string field_time(const boost::json::object& object, std::string_view key);

// A duration in seconds as "2d 3h 4m 5s", leaving out leading zero units.
std::string duration_text(std::int64_t seconds);

// `key: value` lines; a value that spans lines is printed as an indented block.
void print_fields(std::ostream& out, const boost::json::object& object);

enum class align { left, right };

struct column {
    std::string_view title;
    align alignment = align::left;
};

// A plain-text table: a header row, then rows, columns padded to line up.
class table {
  public:
    explicit table(std::vector<column> columns);
    void add_row(std::vector<std::string> cells);
    void print(std::ostream& out) const;

  private:
    std::vector<column> columns_;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace chatd::ctl
