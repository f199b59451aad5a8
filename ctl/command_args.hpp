#pragma once

#include <boost/json/object.hpp>
#include <boost/program_options/cmdline.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/positional_options.hpp>
#include <boost/program_options/variables_map.hpp>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "client.hpp"

// What the commands share to turn their arguments into a request. Each helper
// throws usage_error, which chatctl answers with the command's usage line.
namespace chatd::ctl {

using arguments = std::vector<std::string>;

// Checks the number of positional arguments. `names` lists them in order; the
// first `required` of them must be present.
void expect_arguments(const arguments& args, std::initializer_list<std::string_view> names,
                      std::size_t required);

// An ID as the daemon hands them out: a positive integer.
std::int64_t parse_id(const std::string& text);

// A whole number of at least 0 given for --`option`.
std::int64_t parse_count(const std::string& option, const std::string& text);

// A decimal number of at least 0 given for --`option` (prices).
double parse_amount(const std::string& option, const std::string& text);

// An amount of money in yuan ("19.9", "19.90", "19") as integer fen; more than two decimals or
// anything but digits and one point is a usage error.
std::int64_t parse_cents(const std::string& option, const std::string& text);

// As parse_count, but negative numbers are allowed (grants may deduct).
std::int64_t parse_signed(const std::string& option, const std::string& text);

// The command's options and, with `positional`, its arguments.
boost::program_options::variables_map parse_options(
    const arguments& args, const boost::program_options::options_description& options,
    const boost::program_options::positional_options_description* positional = nullptr,
    int style = boost::program_options::command_line_style::default_style);

// The daemon caps a page, so list commands take --cursor to go on where the
// previous page ended, as well as --limit.
void add_page_options(boost::program_options::options_description& options);

// Puts --limit (or `default_limit`) and --cursor into the request's params.
void put_page(boost::json::object& params, const boost::program_options::variables_map& given,
              std::int64_t default_limit);

// Builders for commands that take no arguments, or just an ID.
rpc_request without_params(std::string_view method, const arguments& args);
rpc_request with_id(std::string_view method, const arguments& args);

}  // namespace chatd::ctl
