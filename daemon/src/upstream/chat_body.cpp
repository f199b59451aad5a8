#include <boost/json.hpp>

#include "upstream/upstream_client.hpp"

namespace chatd::upstream {

std::string chat_completion_body(const chat_request& r) {
    namespace json = boost::json;
    json::array messages;
    messages.reserve(r.messages.size());
    for (auto& m : r.messages) messages.push_back(json::object{{"role", m.role}, {"content", m.content}});
    json::object body{{"model", r.model}, {"messages", std::move(messages)}, {"stream", true}};
    if (r.options.include_usage) body["stream_options"] = json::object{{"include_usage", true}};
    return json::serialize(body);
}

}  // namespace chatd::upstream
