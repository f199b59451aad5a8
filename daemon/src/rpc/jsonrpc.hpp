#pragma once
// JSON-RPC 2.0 for both transports: one method table {name, access, handler}, batches,
// notifications and every spec error. Handlers know nothing of HTTP; errors they throw
// become JSON-RPC errors here, at the boundary.
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/types.hpp"
#include "util/app_error.hpp"

namespace chatd::rpc {
namespace json = boost::json;

enum class access {
    anyone,  // no session needed (site.info, login)
    user,    // a logged-in, unbanned user
    admin,   // the admin socket, or an admin's web session
};

struct call_context {
    bool via_socket = false;
    std::optional<store::user_row> user;  // the session's user, public listener only
    // Why the session could not be looked up (the database is away): methods that need a user
    // answer with it, each with its own id, rather than as if nobody were logged in.
    std::exception_ptr session_error;
    std::string session_token_hash;
    std::string peer;  // client IP ("local" on the admin socket)
    std::string user_agent;
    std::string_view cookies;              // the request's Cookie header; the request outlives the call
    bool secure = false;                   // served over https: cookies get Secure
    std::string origin;                    // scheme://host the visitor sees (links)
    std::vector<std::string> set_cookies;  // Set-Cookie values for the HTTP response
    // What an audited admin change did: filled in by the method, recorded with its params.
    json::value audit_before, audit_after;

    const store::user_row& require_user() const;
    std::string actor() const;  // for the audit log
};

using handler = std::function<boost::asio::awaitable<json::value>(const json::value& params,
                                                                  call_context& ctx)>;

struct method {
    std::string name;
    access who = access::user;
    handler fn;
    bool audited = false;  // admin changes are recorded in the audit log
};

class dispatcher {
public:
    void add(method m);  // throws on a duplicate or empty name
    // Returns the response body, or nullopt when nothing must be sent (only notifications).
    boost::asio::awaitable<std::optional<std::string>> handle(std::string_view body,
                                                              call_context& ctx) const;
    std::vector<std::string> names(bool admin_socket) const;
    std::function<void(const call_context&, const std::string& method, const json::value& params)>
        on_audit;

    static constexpr std::size_t max_batch = 100;

private:
    boost::asio::awaitable<std::optional<json::value>> handle_one(const json::value& req,
                                                                  call_context& ctx) const;
    std::map<std::string, method> methods_;
};

// Parameter access with invalid_params errors that name the parameter.
class params {
public:
    explicit params(const json::value& v);
    std::string str(std::string_view name) const;
    std::optional<std::string> opt_str(std::string_view name) const;
    std::int64_t i64(std::string_view name) const;
    std::optional<std::int64_t> opt_i64(std::string_view name) const;
    std::optional<bool> opt_bool(std::string_view name) const;
    const json::value* get(std::string_view name) const;
    const json::object& object() const { return obj_; }

private:
    json::object obj_;
};

json::value null_or(const std::optional<std::int64_t>& v);
json::value null_or(const std::string& v);  // empty → null

}  // namespace chatd::rpc
