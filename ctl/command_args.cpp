#include "command_args.hpp"

#include <boost/program_options/errors.hpp>
#include <boost/program_options/parsers.hpp>
#include <charconv>
#include <optional>

#include "errors.hpp"
#include "util/option_error.hpp"

namespace chatd::ctl {

namespace json = boost::json;
namespace po = boost::program_options;

namespace {

// `text` read as a whole number to its last character, or nothing.
std::optional<std::int64_t> whole_number(const std::string& text) {
    std::int64_t n = 0;
    const char* end = text.data() + text.size();
    auto [stop, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc{} || stop != end) return std::nullopt;
    return n;
}

}  // namespace

void expect_arguments(const arguments& args, std::initializer_list<std::string_view> names,
                      std::size_t required) {
    if (args.size() < required)
        throw usage_error("missing " + std::string(names.begin()[args.size()]));
    if (args.size() > names.size())
        throw usage_error("unexpected argument '" + args[names.size()] + "'");
}

std::int64_t parse_id(const std::string& text) {
    const auto id = whole_number(text);
    if (!id || *id <= 0) throw usage_error("ID must be a positive integer, not '" + text + "'");
    return *id;
}

std::int64_t parse_signed(const std::string& option, const std::string& text) {
    const auto n = whole_number(text);
    if (!n) throw usage_error("--" + option + " must be a whole number, not '" + text + "'");
    return *n;
}

std::int64_t parse_count(const std::string& option, const std::string& text) {
    const auto n = parse_signed(option, text);
    if (n < 0) throw usage_error("--" + option + " must be a whole number, not '" + text + "'");
    return n;
}

double parse_amount(const std::string& option, const std::string& text) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || !(value >= 0))
        throw usage_error("--" + option + " must be a number of at least 0, not '" + text + "'");
    return value;
}

std::int64_t parse_cents(const std::string& option, const std::string& text) {
    auto dot = text.find('.');
    auto whole = text.substr(0, dot), frac = dot == std::string::npos ? std::string() : text.substr(dot + 1);
    auto digits = [](const std::string& s) { return s.find_first_not_of("0123456789") == std::string::npos; };
    if (whole.empty() || whole.size() > 9 || !digits(whole) || !digits(frac) || frac.size() > 2 ||
        (dot != std::string::npos && frac.empty()))
        throw usage_error("--" + option + " must be an amount in yuan such as 19.90, not '" + text + "'");
    frac.resize(2, '0');
    return std::stoll(whole) * 100 + std::stoll(frac);
}

po::variables_map parse_options(const arguments& args, const po::options_description& options,
                                const po::positional_options_description* positional, int style) {
    po::variables_map given;
    try {
        auto parser = po::command_line_parser(args).options(options).style(style);
        if (positional) parser.positional(*positional);
        po::store(parser.run(), given);
    } catch (po::error& error) {
        throw usage_error(option_error_text(error));
    }
    return given;
}

void add_page_options(po::options_description& options) {
    auto add = options.add_options();
    add("limit", po::value<std::string>());
    add("cursor", po::value<std::string>());
}

void put_page(json::object& params, const po::variables_map& given, std::int64_t default_limit) {
    params["limit"] = given.count("limit") ? parse_count("limit", given["limit"].as<std::string>())
                                           : default_limit;
    if (given.count("cursor")) params["cursor"] = given["cursor"].as<std::string>();
}

rpc_request without_params(std::string_view method, const arguments& args) {
    expect_arguments(args, {}, 0);
    return {std::string(method), json::object{}};
}

rpc_request with_id(std::string_view method, const arguments& args) {
    expect_arguments(args, {"ID"}, 1);
    return {std::string(method), json::object{{"id", parse_id(args[0])}}};
}

}  // namespace chatd::ctl
