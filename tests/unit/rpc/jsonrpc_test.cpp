// The JSON-RPC codec against the examples of the JSON-RPC 2.0 specification.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include "rpc/jsonrpc.hpp"

using namespace chatd;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

rpc::dispatcher make_dispatcher() {
    rpc::dispatcher d;
    d.add({"subtract", rpc::access::anyone,
           [](const json::value& p, rpc::call_context&) -> asio::awaitable<json::value> {
               if (p.is_array()) co_return p.get_array()[0].to_number<std::int64_t>() - p.get_array()[1].to_number<std::int64_t>();
               auto& o = p.get_object();
               co_return o.at("minuend").to_number<std::int64_t>() - o.at("subtrahend").to_number<std::int64_t>();
           }});
    d.add({"sum", rpc::access::anyone, [](const json::value& p, rpc::call_context&) -> asio::awaitable<json::value> {
               std::int64_t s = 0;
               for (auto& v : p.get_array()) s += v.to_number<std::int64_t>();
               co_return s;
           }});
    d.add({"get_data", rpc::access::anyone, [](const json::value&, rpc::call_context&) -> asio::awaitable<json::value> {
               co_return json::array{"hello", 5};
           }});
    d.add({"notify_hello", rpc::access::anyone, [](const json::value&, rpc::call_context&) -> asio::awaitable<json::value> {
               co_return nullptr;
           }});
    d.add({"notify_sum", rpc::access::anyone, [](const json::value&, rpc::call_context&) -> asio::awaitable<json::value> {
               co_return nullptr;
           }});
    d.add({"needs_user", rpc::access::user, [](const json::value&, rpc::call_context&) -> asio::awaitable<json::value> {
               co_return "secret";
           }});
    d.add({"admin.thing", rpc::access::admin, [](const json::value&, rpc::call_context&) -> asio::awaitable<json::value> {
               co_return "admin";
           }});
    d.add({"fails", rpc::access::anyone, [](const json::value&, rpc::call_context&) -> asio::awaitable<json::value> {
               fail("insufficient_credits", "not enough");
           }});
    d.add({"throws", rpc::access::anyone, [](const json::value&, rpc::call_context&) -> asio::awaitable<json::value> {
               throw std::runtime_error("boom");
           }});
    return d;
}

std::optional<json::value> call(const rpc::dispatcher& d, std::string_view body, bool socket = false,
                                std::exception_ptr session_error = nullptr) {
    asio::io_context ioc;
    rpc::call_context ctx;
    ctx.via_socket = socket;
    ctx.session_error = session_error;
    auto f = asio::co_spawn(ioc, d.handle(body, ctx), asio::use_future);
    ioc.run();
    auto r = f.get();
    if (!r) return std::nullopt;
    return json::parse(*r);
}

}  // namespace

TEST_CASE("rpc call with positional and named parameters") {
    auto d = make_dispatcher();
    CHECK(*call(d, R"({"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1})") ==
          json::parse(R"({"jsonrpc": "2.0", "result": 19, "id": 1})"));
    CHECK(*call(d, R"({"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2})") ==
          json::parse(R"({"jsonrpc": "2.0", "result": -19, "id": 2})"));
    CHECK(*call(d, R"({"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3})") ==
          json::parse(R"({"jsonrpc": "2.0", "result": 19, "id": 3})"));
    CHECK(*call(d, R"({"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": "x"})") ==
          json::parse(R"({"jsonrpc": "2.0", "result": 19, "id": "x"})"));
}

TEST_CASE("notifications get no reply") {
    auto d = make_dispatcher();
    CHECK_FALSE(call(d, R"({"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]})"));
    CHECK_FALSE(call(d, R"({"jsonrpc": "2.0", "method": "foobar"})"));
    CHECK_FALSE(call(d, R"([{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
                           {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}])"));
    // "id": null is a call, not a notification.
    auto r = call(d, R"({"jsonrpc": "2.0", "method": "get_data", "id": null})");
    REQUIRE(r);
    CHECK(r->at("id").is_null());
}

TEST_CASE("spec error examples") {
    auto d = make_dispatcher();
    auto r = *call(d, R"({"jsonrpc": "2.0", "method": "foobar", "id": "1"})");
    CHECK(r.at("error").at("code") == -32601);
    CHECK(r.at("id") == "1");
    r = *call(d, R"({"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz])");
    CHECK(r.at("error").at("code") == -32700);
    CHECK(r.at("id").is_null());
    r = *call(d, R"({"jsonrpc": "2.0", "method": 1, "params": "bar"})");
    CHECK(r.at("error").at("code") == -32600);
    r = *call(d, R"([{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method")");
    CHECK(r.at("error").at("code") == -32700);
    r = *call(d, "[]");
    CHECK(r.at("error").at("code") == -32600);
    r = *call(d, "[1]");
    REQUIRE(r.is_array());
    CHECK(r.as_array().size() == 1);
    CHECK(r.as_array()[0].at("error").at("code") == -32600);
    r = *call(d, "[1,2,3]");
    CHECK(r.as_array().size() == 3);
}

TEST_CASE("mixed batch from the specification") {
    auto d = make_dispatcher();
    auto r = *call(d, R"([
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ])");
    auto& a = r.as_array();
    REQUIRE(a.size() == 5);
    CHECK(a[0] == json::parse(R"({"jsonrpc": "2.0", "result": 7, "id": "1"})"));
    CHECK(a[1] == json::parse(R"({"jsonrpc": "2.0", "result": 19, "id": "2"})"));
    CHECK(a[2].at("error").at("code") == -32600);
    CHECK(a[3].at("error").at("code") == -32601);
    CHECK(a[4] == json::parse(R"({"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"})"));
}

TEST_CASE("application errors carry a reason; internal errors hide details") {
    auto d = make_dispatcher();
    auto r = *call(d, R"({"jsonrpc":"2.0","method":"fails","id":1})");
    CHECK(r.at("error").at("code") == -32010);
    CHECK(r.at("error").at("data").at("reason") == "insufficient_credits");
    r = *call(d, R"({"jsonrpc":"2.0","method":"throws","id":1})");
    CHECK(r.at("error").at("code") == -32603);
    CHECK(r.at("error").at("message").as_string().find("boom") == json::string::npos);
    r = *call(d, R"({"jsonrpc":"2.0","method":"needs_user","id":1})");
    CHECK(r.at("error").at("data").at("reason") == "unauthorized");
    r = *call(d, "{\"jsonrpc\":\"2.0\",\"method\":\"sum\",\"params\":[\"\xff\"],\"id\":4}");
    CHECK(r.at("error").at("code") == -32602);
    CHECK(r.at("id") == 4);
    r = *call(d, R"({"jsonrpc":"2.0","method":"sum","params":"no","id":1})");
    CHECK(r.at("error").at("code") == -32600);
}

TEST_CASE("the admin socket sees admin methods only, without a session") {
    auto d = make_dispatcher();
    auto r = *call(d, R"({"jsonrpc":"2.0","method":"admin.thing","id":1})", true);
    CHECK(r.at("result") == "admin");
    r = *call(d, R"({"jsonrpc":"2.0","method":"sum","params":[1],"id":1})", true);
    CHECK(r.at("error").at("code") == -32601);
    CHECK(d.names(true) == std::vector<std::string>{"admin.thing"});
    CHECK_THROWS(d.add({"sum", rpc::access::anyone, [](const json::value&, rpc::call_context&) -> asio::awaitable<json::value> { co_return 1; }}));
}

TEST_CASE("oversized batches are refused") {
    auto d = make_dispatcher();
    std::string body = "[";
    for (std::size_t i = 0; i <= rpc::dispatcher::max_batch; ++i)
        body += std::string(i ? "," : "") + R"({"jsonrpc":"2.0","method":"get_data","id":1})";
    body += "]";
    auto r = *call(d, body);
    CHECK(r.at("error").at("code") == -32600);
}

TEST_CASE("ids are echoed exactly or refused") {
    auto d = make_dispatcher();
    auto r = *call(d, R"({"jsonrpc":"2.0","method":"get_data","id":18446744073709551615})");
    CHECK(json::serialize(r.at("id")) == "18446744073709551615");
    r = *call(d, R"({"jsonrpc":"2.0","method":"get_data","id":-9223372036854775808})");
    CHECK(json::serialize(r.at("id")) == "-9223372036854775808");
    // Numbers a double cannot hold exactly would come back changed (or as Infinity).
    for (auto id : {"1e400", "123456789012345678901234567890", "1.5", "-1e400"}) {
        INFO(id);
        auto body = std::string(R"({"jsonrpc":"2.0","method":"get_data","id":)") + id + "}";
        auto bad = call(d, body);
        REQUIRE(bad);
        CHECK(bad->at("error").at("code") == -32600);
        CHECK(bad->at("id").is_null());
        CHECK(json::serialize(*bad).find("Infinity") == std::string::npos);
    }
}

TEST_CASE("NUL characters and infinite numbers in params are invalid") {
    auto d = make_dispatcher();
    auto r = *call(d, R"({"jsonrpc":"2.0","method":"get_data","params":{"name":"a\u0000b"},"id":1})");
    CHECK(r.at("error").at("code") == -32602);
    CHECK(r.at("error").at("data").at("reason") == "invalid_params");
    r = *call(d, R"({"jsonrpc":"2.0","method":"get_data","params":{"a\u0000":1},"id":1})");
    CHECK(r.at("error").at("code") == -32602);
    r = *call(d, R"({"jsonrpc":"2.0","method":"get_data","params":[1e400],"id":1})");
    CHECK(r.at("error").at("code") == -32602);
    r = *call(d, R"({"jsonrpc":"2.0","method":"get_data","params":{"name":"ok","n":1.5},"id":1})");
    CHECK(r.as_object().contains("result"));
}

TEST_CASE("a method name that is not UTF-8 is refused, and the reply stays valid JSON") {
    auto d = make_dispatcher();
    // Found by fuzzing: the name was echoed in "Method not found", so the reply did not parse.
    asio::io_context ioc;
    rpc::call_context ctx;
    auto f = asio::co_spawn(ioc, d.handle("{\"jsonrpc\":\"2.0\",\"method\":\"get\x9f_data\",\"id\":7}", ctx),
                            asio::use_future);
    ioc.run();
    auto body = f.get();
    REQUIRE(body);
    boost::system::error_code ec;
    auto r = json::parse(*body, ec);
    REQUIRE_FALSE(ec);
    CHECK(r.at("error").at("code") == -32600);
    CHECK(r.at("id") == 7);
}

TEST_CASE("a session that could not be looked up fails the methods that need a user, each with its id") {
    auto d = make_dispatcher();
    auto away = std::make_exception_ptr(app_error("database_unavailable", "the database is away"));
    auto r = *call(d, R"([{"jsonrpc":"2.0","method":"needs_user","id":7},
                         {"jsonrpc":"2.0","method":"sum","params":[1,2],"id":8}])", false, away);
    auto& replies = r.as_array();
    REQUIRE(replies.size() == 2);
    CHECK(replies[0].at("id") == 7);
    CHECK(replies[0].at("error").at("data").at("reason") == "database_unavailable");
    CHECK(replies[1].at("result") == 3);  // needs nobody: still answered
}
