#include "output.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <ctime>

#include "messages.hpp"
#include "util/text_wrap.hpp"

namespace chatd::ctl {

namespace json = boost::json;

namespace {

// Boost.JSON writes doubles in exponent form ("1.5E0"); the shortest decimal
// form reads better and parses back to the same number.
std::string double_text(double number) {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, number);
    return std::string(buffer, end);
}

std::string scalar_json(const json::value& value) {
    return value.is_double() ? double_text(value.get_double()) : json::serialize(value);
}

void write_json(std::ostream& out, const json::value& value, int depth) {
    auto indent = [&](int level) { out << std::string(static_cast<std::size_t>(level) * 2, ' '); };

    if (const auto* object = value.if_object()) {
        if (object->empty()) {
            out << "{}";
            return;
        }
        out << "{\n";
        bool first = true;
        for (const auto& [key, child] : *object) {
            if (!first) out << ",\n";
            first = false;
            indent(depth + 1);
            out << json::serialize(json::string(key)) << ": ";
            write_json(out, child, depth + 1);
        }
        out << '\n';
        indent(depth);
        out << '}';
    } else if (const auto* array = value.if_array()) {
        if (array->empty()) {
            out << "[]";
            return;
        }
        out << "[\n";
        bool first = true;
        for (const auto& child : *array) {
            if (!first) out << ",\n";
            first = false;
            indent(depth + 1);
            write_json(out, child, depth + 1);
        }
        out << '\n';
        indent(depth);
        out << ']';
    } else {
        out << scalar_json(value);
    }
}

}  // namespace

void print_json(std::ostream& out, const json::value& value) {
    write_json(out, value, 0);
    out << '\n';
}

std::string text_of(const json::value& value) {
    switch (value.kind()) {
        case json::kind::null:
            return std::string(absent);
        case json::kind::string:
            return std::string(value.get_string());
        case json::kind::object:
        case json::kind::array:
            return json::serialize(value);
        default:
            return scalar_json(value);
    }
}

std::string local_time(std::int64_t unix_seconds) {
    const std::time_t when = static_cast<std::time_t>(unix_seconds);
    std::tm parts{};
    if (!localtime_r(&when, &parts)) return std::to_string(unix_seconds);
    char buffer[32];
    const std::size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &parts);
    return std::string(buffer, length);
}

std::string field_text(const json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return value ? text_of(*value) : std::string(absent);
}

std::string field_time(const json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    if (value && value->is_int64()) return local_time(value->get_int64());
    if (value && value->is_uint64())
        return local_time(static_cast<std::int64_t>(value->get_uint64()));
    return field_text(object, key);
}

std::string duration_text(std::int64_t seconds) {
    const std::int64_t parts[] = {seconds / 86400, seconds / 3600 % 24, seconds / 60 % 60,
                                  seconds % 60};
    const char units[] = {'d', 'h', 'm', 's'};
    std::string text;
    for (std::size_t i = 0; i < 4; ++i) {
        if (text.empty() && parts[i] == 0 && i < 3) continue;
        if (!text.empty()) text += ' ';
        text += std::to_string(parts[i]) + units[i];
    }
    return text;
}

void print_fields(std::ostream& out, const json::object& object) {
    for (const auto& [key, value] : object) {
        const std::string text = text_of(value);
        if (text.find('\n') == std::string::npos) {
            out << std::string_view(key) << ": " << text << '\n';
            continue;
        }
        out << std::string_view(key) << ": |\n";
        std::string_view rest = text;
        while (!rest.empty()) {
            const auto end = rest.find('\n');
            out << "  " << rest.substr(0, end) << '\n';
            rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
        }
    }
}

table::table(std::vector<column> columns) : columns_(std::move(columns)) {}

void table::add_row(std::vector<std::string> cells) {
    cells.resize(columns_.size(), std::string(absent));
    rows_.push_back(std::move(cells));
}

void table::print(std::ostream& out) const {
    std::vector<std::size_t> widths;
    // Headers in the operator's language; display widths, so Chinese ones line up too.
    std::vector<std::string> titles;
    for (const auto& column : columns_) titles.push_back(tr(column.title));
    for (const auto& title : titles) widths.push_back(display_width(title));
    for (const auto& row : rows_)
        for (std::size_t i = 0; i < row.size(); ++i)
            widths[i] = std::max(widths[i], display_width(row[i]));

    auto print_row = [&](auto cell_at) {
        std::string line;
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            const std::string_view cell = cell_at(i);
            const std::string padding(widths[i] - display_width(cell), ' ');
            if (i > 0) line += "  ";
            if (columns_[i].alignment == align::right)
                line.append(padding).append(cell);
            else
                line.append(cell).append(padding);
        }
        line.erase(line.find_last_not_of(' ') + 1);
        out << line << '\n';
    };

    print_row([&](std::size_t i) { return std::string_view(titles[i]); });
    for (const auto& row : rows_)
        print_row([&](std::size_t i) { return std::string_view(row[i]); });
}

}  // namespace chatd::ctl
