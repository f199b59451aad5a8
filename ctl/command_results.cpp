#include "command_results.hpp"

#include "messages.hpp"
#include "output.hpp"

namespace chatd::ctl {

namespace json = boost::json;

const json::object& object_of(const json::value& value) {
    static const json::object empty;
    const auto* object = value.if_object();
    return object ? *object : empty;
}

const json::array& array_field(const json::value& value, std::string_view key) {
    static const json::array empty;
    const auto* field = object_of(value).if_contains(key);
    const auto* array = field ? field->if_array() : nullptr;
    return array ? *array : empty;
}

const json::object& object_field(const json::object& object, std::string_view key) {
    static const json::value none;
    const auto* field = object.if_contains(key);
    return object_of(field ? *field : none);
}

const json::object& params_of(const rpc_request& request) {
    static const json::object none;
    return request.params ? object_of(*request.params) : none;
}

std::string param_text(const rpc_request& request, std::string_view key) {
    return field_text(params_of(request), key);
}

void show_json(const json::value& result, const rpc_request&, std::ostream& out) {
    print_json(out, result);
}

void show_next_page(const json::value& result, std::ostream& out) {
    const auto* next = object_of(result).if_contains("next_cursor");
    if (next && !next->is_null()) out << say("more: --cursor {}", {text_of(*next)}) << '\n';
}

}  // namespace chatd::ctl
