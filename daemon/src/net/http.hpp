#pragma once
// Transport-neutral HTTP types: route handlers see these, never Beast.
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatd::net {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct request {
    std::string method;
    std::string target;  // as sent: path + query
    std::string path;    // percent-decoded
    std::string query;
    header_list headers;  // names lowercased
    std::string body;
    std::string peer;     // client IP; "local" on the admin socket
    bool admin_socket = false;

    std::string_view header(std::string_view lower_name) const;
    // Every field of that name joined with ", " (how HTTP combines a repeated list header).
    std::string header_joined(std::string_view lower_name) const;
    std::string query_param(std::string_view name) const;
};

struct response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    header_list headers;
    std::string file_path;  // when set, the body is this file (static files)
};

// How a handler answers: one whole response, or a chunked stream (SSE).
class responder {
public:
    virtual ~responder() = default;
    virtual boost::asio::awaitable<void> send(response r) = 0;
    // Sends the head of a chunked response; false if the client is gone.
    virtual boost::asio::awaitable<bool> open_stream(response head) = 0;
    // One chunk, under a write deadline; false if the client is gone or too slow.
    virtual boost::asio::awaitable<bool> write(std::string chunk) = 0;
};

using handler = std::function<boost::asio::awaitable<void>(request&, responder&)>;

response json_response(int status, std::string body);
std::string percent_decode(std::string_view s, bool plus_as_space);

}  // namespace chatd::net
