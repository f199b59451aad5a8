#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <ostream>
#include <string>
#include <string_view>

#include "client.hpp"

// What the commands share to print a result for a person. A result of an
// unexpected shape reads as empty rather than throwing.
namespace chatd::ctl {

// The object `value` holds, or an empty one.
const boost::json::object& object_of(const boost::json::value& value);

// The array field `key` of `value`, or an empty array.
const boost::json::array& array_field(const boost::json::value& value, std::string_view key);

// A nested object field, or an empty object (never a dangling temporary).
const boost::json::object& object_field(const boost::json::object& object, std::string_view key);

// The params the command sent, or an empty object.
const boost::json::object& params_of(const rpc_request& request);

// A param the command sent, as text: what "removed key 3" names.
std::string param_text(const rpc_request& request, std::string_view key);

// Prints the result as JSON, for commands that have no shape of their own.
void show_json(const boost::json::value& result, const rpc_request& request, std::ostream& out);

// Printed after a list, so a person sees that it goes on and how to get the rest.
void show_next_page(const boost::json::value& result, std::ostream& out);

}  // namespace chatd::ctl
