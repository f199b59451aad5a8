#include "client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <exception>
#include <sstream>

#include "errors.hpp"

namespace chatd::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

using unix_stream = beast::basic_stream<asio::local::stream_protocol>;
using reply_type = http::response<http::string_body>;

// Generous enough for a key list of many thousands of entries.
constexpr std::uint64_t reply_body_limit = 64 * 1024 * 1024;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string seconds_text(std::chrono::milliseconds timeout) {
    std::ostringstream out;
    out << static_cast<double>(timeout.count()) / 1000.0 << " s";
    return out.str();
}

std::string why_connect_failed(const boost::system::error_code& ec,
                               std::chrono::milliseconds timeout) {
    namespace errc = boost::system::errc;
    if (ec == beast::error::timeout) return "timed out after " + seconds_text(timeout);
    if (ec == errc::no_such_file_or_directory || ec == errc::not_a_directory)
        return "no such socket (is chatd running?)";
    if (ec == errc::connection_refused) return "connection refused (is chatd running?)";
    if (ec == errc::permission_denied || ec == errc::operation_not_permitted)
        return "permission denied (is your user in chatd's group?)";
    return ec.message();
}

asio::awaitable<reply_type> exchange(std::string socket_path, std::string body,
                                     std::chrono::milliseconds timeout) {
    asio::local::stream_protocol::endpoint endpoint;
    try {
        endpoint = asio::local::stream_protocol::endpoint(socket_path);
    } catch (const boost::system::system_error&) {
        throw connection_error("cannot connect to " + socket_path + ": socket path too long");
    }

    unix_stream stream(co_await asio::this_coro::executor);
    // One deadline for connect, write and read together: the limit the operator
    // gave is for the whole command, not for each step.
    stream.expires_after(timeout);

    if (auto [ec] = co_await stream.async_connect(endpoint, use_tuple); ec)
        throw connection_error("cannot connect to " + socket_path + ": " +
                               why_connect_failed(ec, timeout));

    http::request<http::string_body> request{http::verb::post, "/rpc", 11};
    request.set(http::field::host, "localhost");
    request.set(http::field::content_type, "application/json");
    request.set(http::field::user_agent, "chatctl/" CHATD_VERSION);
    request.keep_alive(false);
    request.body() = std::move(body);
    request.prepare_payload();

    auto lost = [&](const boost::system::error_code& ec) {
        if (ec == beast::error::timeout)
            return connection_error("no reply from " + socket_path + " within " +
                                    seconds_text(timeout));
        return connection_error("connection to " + socket_path + " failed: " + ec.message());
    };

    if (auto [ec, written] = co_await http::async_write(stream, request, use_tuple); ec)
        throw lost(ec);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(reply_body_limit);
    if (auto [ec, read] = co_await http::async_read(stream, buffer, parser, use_tuple); ec)
        throw lost(ec);

    boost::system::error_code ignored;
    stream.socket().shutdown(asio::socket_base::shutdown_both, ignored);
    co_return parser.release();
}

std::string error_reason(const json::object& error) {
    if (const auto* data = error.if_contains("data"); data && data->is_object())
        if (const auto* reason = data->as_object().if_contains("reason");
            reason && reason->is_string())
            return std::string(reason->get_string());
    if (const auto* code = error.if_contains("code"); code && code->is_number())
        return "code " + json::serialize(*code);
    return {};
}

json::value result_of(const reply_type& reply, const std::string& socket_path) {
    boost::system::error_code ec;
    json::value body = json::parse(reply.body(), ec);
    const json::object* envelope = ec ? nullptr : body.if_object();
    if (!envelope || (!envelope->contains("result") && !envelope->contains("error")))
        throw daemon_error("unexpected reply from " + socket_path + ": HTTP " +
                               std::to_string(reply.result_int()) + " " +
                               std::string(reply.reason()),
                           "");

    if (const auto* error = envelope->if_contains("error")) {
        const json::object* fields = error->if_object();
        if (!fields) throw daemon_error("malformed error from " + socket_path, "");
        const auto* message = fields->if_contains("message");
        std::string text =
            message && message->is_string() ? std::string(message->get_string()) : "request failed";
        throw daemon_error(text, error_reason(*fields));
    }
    return envelope->at("result");
}

}  // namespace

json::value call(const std::string& socket_path, const rpc_request& request,
                 std::chrono::milliseconds timeout) {
    json::object envelope{{"jsonrpc", "2.0"}, {"id", 1}, {"method", request.method}};
    if (request.params) envelope["params"] = *request.params;

    // Asio's blocking calls cannot be bounded by a deadline, so the exchange runs
    // asynchronously on a private io_context while the caller waits for it.
    asio::io_context io;
    std::exception_ptr failure;
    reply_type reply;
    asio::co_spawn(io, exchange(socket_path, json::serialize(envelope), timeout),
                   [&](std::exception_ptr error, reply_type answer) {
                       failure = error;
                       reply = std::move(answer);
                   });
    io.run();
    if (failure) std::rethrow_exception(failure);
    return result_of(reply, socket_path);
}

}  // namespace chatd::ctl
