// The JSON-RPC 2.0 codec with a body as a client sends it: whatever arrives, no exception leaves
// the dispatcher, and the reply is nothing (notifications) or one JSON-RPC response per request
// (an object, or an array for a batch), each with exactly one of result and error.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <stdexcept>

#include "fuzz_check.hpp"
#include "rpc/jsonrpc.hpp"

using namespace chatd;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

rpc::dispatcher make_dispatcher() {
    rpc::dispatcher d;
    // Reads its parameters as real handlers do, so that bad ones become invalid_params.
    d.add({"echo", rpc::access::anyone, [](const json::value& v, rpc::call_context&) -> asio::awaitable<json::value> {
               rpc::params p(v);
               json::object out{{"text", p.str("text")}};
               if (auto n = p.opt_i64("n")) out["n"] = *n;
               if (auto b = p.opt_bool("flag")) out["flag"] = *b;
               co_return out;
           }});
    d.add({"fails", rpc::access::anyone, [](const json::value&, rpc::call_context&) -> asio::awaitable<json::value> {
               fail("not_found", "nothing here");
           }});
    d.add({"throws", rpc::access::anyone, [](const json::value&, rpc::call_context&) -> asio::awaitable<json::value> {
               throw std::runtime_error("boom");
           }});
    d.add({"needs_user", rpc::access::user, [](const json::value&, rpc::call_context& ctx) -> asio::awaitable<json::value> {
               co_return ctx.require_user().id;
           }});
    d.add({"admin.thing", rpc::access::admin, [](const json::value& v, rpc::call_context&) -> asio::awaitable<json::value> {
               co_return v;
           }});
    return d;
}

void check_response(const json::value& r) {
    FUZZ_CHECK(r.is_object());
    const auto& o = r.get_object();
    FUZZ_CHECK(o.contains("jsonrpc") && o.at("jsonrpc") == "2.0");
    FUZZ_CHECK(o.contains("id"));
    FUZZ_CHECK(o.contains("result") != o.contains("error"));
    if (auto* e = o.if_contains("error")) {
        FUZZ_CHECK(e->is_object() && e->get_object().contains("code") && e->get_object().at("code").is_int64());
        FUZZ_CHECK(e->get_object().contains("message") && e->get_object().at("message").is_string());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const rpc::dispatcher dispatcher = make_dispatcher();
    static asio::io_context io;
    auto body = fuzz::as_text(data, size);
    rpc::call_context ctx;
    ctx.via_socket = size % 2 == 1;  // both doors: the admin socket lets admin methods through
    ctx.peer = "local";
    bool finished = false;
    std::optional<std::string> reply;
    asio::co_spawn(io, dispatcher.handle(body, ctx), [&](std::exception_ptr e, std::optional<std::string> r) {
        FUZZ_CHECK(!e);  // every failure must become a JSON-RPC error
        finished = true;
        reply = std::move(r);
    });
    io.restart();
    io.run();
    FUZZ_CHECK(finished);
    if (!reply) return 0;
    boost::system::error_code ec;
    auto v = json::parse(*reply, ec);
    FUZZ_CHECK(!ec);
    if (v.is_array()) {
        FUZZ_CHECK(!v.get_array().empty() && v.get_array().size() <= rpc::dispatcher::max_batch);
        for (const auto& r : v.get_array()) check_response(r);
    } else {
        check_response(v);
    }
    return 0;
}
