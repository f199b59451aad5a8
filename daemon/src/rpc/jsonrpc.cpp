#include "rpc/jsonrpc.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <spdlog/spdlog.h>

#include "util/app_error.hpp"
#include "util/reasons.hpp"
#include "util/text.hpp"

namespace chatd::rpc {

namespace {

constexpr int parse_error = -32700;
constexpr int invalid_request = -32600;
constexpr int method_not_found = -32601;
constexpr int invalid_params = -32602;
constexpr int internal_error = -32603;

json::object error_body(int code, std::string_view message, json::object data = {}) {
    json::object e{{"code", code}, {"message", message}};
    if (!data.empty()) e["data"] = std::move(data);
    return e;
}

json::value reply_error(const json::value& id, json::object err) {
    return json::object{{"jsonrpc", "2.0"}, {"error", std::move(err)}, {"id", id}};
}

bool text_valid(std::string_view s) { return valid_utf8(s) && s.find('\0') == std::string_view::npos; }

// Strings are valid UTF-8 without NUL (which would cut names short in C APIs and logs), and
// numbers are finite (1e400 parses as infinity, which JSON cannot write back).
bool values_valid(const json::value& v) {
    switch (v.kind()) {
        case json::kind::string:
            return text_valid(v.get_string());
        case json::kind::double_:
            return std::isfinite(v.get_double());
        case json::kind::array:
            for (auto& e : v.get_array())
                if (!values_valid(e)) return false;
            return true;
        case json::kind::object:
            for (auto& kv : v.get_object())
                if (!text_valid(kv.key()) || !values_valid(kv.value())) return false;
            return true;
        default:
            return true;
    }
}

// Ids are echoed exactly: strings and integers only. A fractional or huge number would come
// back rounded (or as "Infinity"), so it is refused.
bool id_valid(const json::value& id) {
    return id.is_null() || id.is_int64() || id.is_uint64() || (id.is_string() && text_valid(id.get_string()));
}

}  // namespace

const store::user_row& call_context::require_user() const {
    if (!user) fail("unauthorized", "请先登录 (please log in)");
    return *user;
}

std::string call_context::actor() const {
    if (via_socket) return "socket";
    if (user) return "user:" + std::to_string(user->id) + (user->username ? " " + *user->username : "");
    return "anonymous";
}

void dispatcher::add(method m) {
    if (m.name.empty() || !m.fn) throw std::logic_error("rpc method needs a name and a handler");
    auto name = m.name;
    if (!methods_.emplace(name, std::move(m)).second)
        throw std::logic_error("duplicate rpc method: " + name);
}

std::vector<std::string> dispatcher::names(bool admin_socket) const {
    std::vector<std::string> out;
    for (auto& [name, m] : methods_)
        if (!admin_socket || m.who == access::admin) out.push_back(name);
    return out;
}

boost::asio::awaitable<std::optional<std::string>> dispatcher::handle(std::string_view body,
                                                                      call_context& ctx) const {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.allow_invalid_utf8 = true;  // checked per request below, so the error can carry its id
    opts.max_depth = 64;
    json::value doc = json::parse(body, ec, {}, opts);
    if (ec) {
        co_return json::serialize(reply_error(
            nullptr, error_body(parse_error, "Parse error: " + ec.message())));
    }
    if (doc.is_array()) {
        auto& batch = doc.get_array();
        if (batch.empty())
            co_return json::serialize(reply_error(nullptr, error_body(invalid_request, "Invalid Request: empty batch")));
        if (batch.size() > max_batch)
            co_return json::serialize(reply_error(
                nullptr, error_body(invalid_request, "Invalid Request: batch larger than " +
                                                         std::to_string(max_batch))));
        json::array replies;
        for (auto& req : batch) {
            auto r = co_await handle_one(req, ctx);
            if (r) replies.push_back(std::move(*r));
        }
        if (replies.empty()) co_return std::nullopt;
        co_return json::serialize(replies);
    }
    auto r = co_await handle_one(doc, ctx);
    if (!r) co_return std::nullopt;
    co_return json::serialize(*r);
}

boost::asio::awaitable<std::optional<json::value>> dispatcher::handle_one(const json::value& req,
                                                                         call_context& ctx) const {
    if (!req.is_object())
        co_return reply_error(nullptr, error_body(invalid_request, "Invalid Request: not an object"));
    const auto& o = req.get_object();
    json::value id = nullptr;
    bool notification = true;
    if (auto it = o.find("id"); it != o.end()) {
        notification = false;
        if (!id_valid(it->value()))
            co_return reply_error(nullptr, error_body(invalid_request,
                                                      "Invalid Request: id must be a string, an integer or null"));
        id = it->value();
    }
    auto jv = o.find("jsonrpc");
    auto mv = o.find("method");
    if (jv == o.end() || !jv->value().is_string() || jv->value().get_string() != "2.0")
        co_return reply_error(id, error_body(invalid_request, "Invalid Request: jsonrpc must be \"2.0\""));
    // The name is echoed in "Method not found": invalid UTF-8 there would make the reply invalid JSON.
    if (mv == o.end() || !mv->value().is_string() || !text_valid(mv->value().get_string()))
        co_return reply_error(id, error_body(invalid_request, "Invalid Request: method must be a string of UTF-8 text"));
    json::value params = nullptr;
    if (auto pv = o.find("params"); pv != o.end()) {
        if (!pv->value().is_object() && !pv->value().is_array())
            co_return reply_error(id, error_body(invalid_request, "Invalid Request: params must be an object or array"));
        params = pv->value();
    }
    std::string name(mv->value().get_string());
    auto finish = [&](json::value v) -> std::optional<json::value> {
        if (notification) return std::nullopt;
        return std::move(v);
    };
    auto it = methods_.find(name);
    bool visible = it != methods_.end() && (!ctx.via_socket || it->second.who == access::admin);
    if (!visible)
        co_return finish(reply_error(id, error_body(method_not_found, "Method not found: " + name)));
    const method& m = it->second;
    if (!values_valid(params))
        co_return finish(reply_error(
            id, error_body(invalid_params,
                           "Invalid params: strings must be valid UTF-8 without NUL, numbers finite",
                           json::object{{"reason", "invalid_params"}})));
    try {
        if (!ctx.via_socket) {
            if (m.who != access::anyone && !ctx.user && ctx.session_error)
                std::rethrow_exception(ctx.session_error);
            if (m.who != access::anyone && !ctx.user) fail("unauthorized", "请先登录 (please log in)");
            if (m.who != access::anyone && ctx.user->banned) fail("user_banned", "账号已被封禁 (this account is banned)");
            if (m.who == access::admin && !ctx.user->is_admin) fail("forbidden", "需要管理员权限 (admins only)");
        }
        json::value result = co_await m.fn(params, ctx);
        if (m.audited && on_audit) on_audit(ctx, name, params);
        co_return finish(json::object{{"jsonrpc", "2.0"}, {"result", std::move(result)}, {"id", id}});
    } catch (const app_error& e) {
        int code = e.reason == "invalid_params" ? invalid_params : rpc_code_of(e.reason);
        co_return finish(reply_error(id, error_body(code, e.what(), json::object{{"reason", e.reason}})));
    } catch (const std::exception& e) {
        spdlog::error("rpc {}: internal error: {}", name, e.what());
        co_return finish(reply_error(id, error_body(internal_error, "Internal error")));
    }
}

params::params(const json::value& v) {
    if (v.is_object()) obj_ = v.get_object();
    else if (!v.is_null()) fail("invalid_params", "params must be an object");
}

const json::value* params::get(std::string_view name) const {
    auto it = obj_.find(name);
    if (it == obj_.end() || it->value().is_null()) return nullptr;
    return &it->value();
}

std::optional<std::string> params::opt_str(std::string_view name) const {
    auto v = get(name);
    if (!v) return std::nullopt;
    if (!v->is_string()) fail("invalid_params", "'" + std::string(name) + "' must be a string");
    return std::string(v->get_string());
}

std::string params::str(std::string_view name) const {
    auto v = opt_str(name);
    if (!v) fail("invalid_params", "missing '" + std::string(name) + "'");
    return *v;
}

std::optional<std::int64_t> params::opt_i64(std::string_view name) const {
    auto v = get(name);
    if (!v) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= INT64_MAX) return static_cast<std::int64_t>(v->get_uint64());
    if (v->is_double() && v->get_double() == static_cast<double>(static_cast<std::int64_t>(v->get_double())))
        return static_cast<std::int64_t>(v->get_double());
    fail("invalid_params", "'" + std::string(name) + "' must be an integer");
}

std::int64_t params::i64(std::string_view name) const {
    auto v = opt_i64(name);
    if (!v) fail("invalid_params", "missing '" + std::string(name) + "'");
    return *v;
}

std::optional<bool> params::opt_bool(std::string_view name) const {
    auto v = get(name);
    if (!v) return std::nullopt;
    if (!v->is_bool()) fail("invalid_params", "'" + std::string(name) + "' must be true or false");
    return v->get_bool();
}

json::value null_or(const std::optional<std::int64_t>& v) {
    if (v) return *v;
    return nullptr;
}

json::value null_or(const std::string& v) {
    if (v.empty()) return nullptr;
    return json::value(v);
}

}  // namespace chatd::rpc
