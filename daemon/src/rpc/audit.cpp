#include "rpc/audit.hpp"

#include <boost/json.hpp>

#include "util/text.hpp"

namespace chatd::rpc {

namespace json = boost::json;

json::value masked_params(const json::value& params) {
    if (!params.is_object()) return params;
    json::object o = params.get_object();
    for (auto& kv : o) {
        auto key = kv.key();
        if (key == "password" || key == "secret") kv.value() = "***";
        if (key == "keys" && kv.value().is_array())
            for (auto& k : kv.value().get_array())
                if (k.is_string()) k = mask_secret(k.get_string());
    }
    return o;
}

store::audit_row audit_row_of(const call_context& ctx, const std::string& method, const json::value& params,
                              std::int64_t now) {
    store::audit_row entry;
    entry.at = now;
    entry.actor = ctx.actor();
    entry.via = ctx.via_socket ? "socket" : "web";
    if (!ctx.via_socket) entry.address = ctx.peer;
    entry.method = method;
    entry.params = json::serialize(masked_params(params));
    if (!ctx.audit_before.is_null()) entry.before = json::serialize(masked_params(ctx.audit_before));
    if (!ctx.audit_after.is_null()) entry.after = json::serialize(masked_params(ctx.audit_after));
    return entry;
}

}  // namespace chatd::rpc
