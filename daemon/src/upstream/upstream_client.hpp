#pragma once
// HTTP(S) client for OpenAI-compatible upstreams: streaming chat completions and plain
// requests, with connection reuse, CONNECT proxies and a deadline on every phase.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/cancel.hpp"

namespace chatd::upstream {

struct client_options {
    std::string proxy;    // "http://host:port" (HTTP CONNECT), empty = direct
    std::string ca_file;  // extra trusted CA bundle (PEM), added to the system store
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds first_byte_timeout{60'000};
    std::chrono::milliseconds idle_timeout{60'000};
    // Once an answer's text comes faster than this, its stream is read at most this often: what
    // comes meanwhile waits in the socket and is taken in one read (0: every piece as it comes).
    std::chrono::milliseconds stream_read_gap{0};
    std::size_t max_idle_per_host = 256;
};

struct usage {
    int prompt_tokens = 0;
    int completion_tokens = 0;  // reasoning included, as the providers count it
    std::optional<int> reasoning_tokens;  // completion_tokens_details.reasoning_tokens, when reported
};

// What happened to one upstream call. Classification into evict/cool/retry is the key
// pool's job; this only reports facts.
struct outcome {
    enum class kind {
        ok,                  // stream ended with [DONE] or a finish_reason and clean EOF
        http_error,          // non-2xx status; error_* fields from an OpenAI error body if any
        connect_failed,      // DNS, TCP, proxy or TLS handshake failure (error_message says which)
        timeout_connect,
        timeout_first_byte,  // no response headers/first chunk within first_byte_timeout
        timeout_idle,        // silence between chunks longer than idle_timeout
        dropped,             // connection closed / reset before the stream finished
        malformed,           // not SSE, bad JSON in a chunk, or 2xx with an unexpected body
        cancelled,           // the cancel_handle fired
    };
    kind what = kind::ok;
    int http_status = 0;
    std::string error_code;     // OpenAI error.code (string or number rendered as text)
    std::string error_type;     // OpenAI error.type
    std::string error_param;    // OpenAI error.param: the request field it refused, if named
    std::string error_message;  // OpenAI error.message, or a description of the failure
    std::optional<int> retry_after_s;  // Retry-After header (seconds form) when present
    bool got_delta = false;            // at least one content or reasoning delta was delivered
    std::optional<usage> tokens;       // from the final usage chunk
    std::string finish_reason;
};

struct chat_message {
    std::string role;  // system | user | assistant
    std::string content;
    std::vector<std::string> image_urls;  // data: URLs; sent as image_url content parts
};

struct chat_options {
    bool include_usage = true;  // stream_options.include_usage: the final chunk reports tokens
    int max_tokens = 0;         // sent when > 0: caps what one answer can cost
};

// One streamed chat completion. Its JSON body is written by chat_completion_body, the one
// place that knows the wire format.
struct chat_request {
    std::string base_url;  // e.g. "https://api.openai.com/v1" or "http://127.0.0.1:9000/v1"
    std::string api_key;
    std::string model;  // the upstream's model name
    std::vector<chat_message> messages;
    chat_options options;
};

// The body of POST {base_url}/chat/completions for `r`, with stream:true.
std::string chat_completion_body(const chat_request& r);

struct http_response {
    int status = 0;  // 0 when no response was received (see error)
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // names lowercased, in order
    std::string_view header(std::string_view lower_name) const {
        for (const auto& [name, value] : headers)
            if (name == lower_name) return value;
        return {};
    }
    std::optional<int> retry_after_s;
    std::string error;  // transport failure description; empty on a received response
};

// What a piece of streamed text is: the answer, or the model's reasoning before it
// (`delta.reasoning_content`, `delta.reasoning`, or a leading <think>…</think> in the content).
enum class text_kind { answer, reasoning };

// Receives each non-empty piece of text in order, on the client's executor.
using delta_fn = std::function<void(text_kind kind, std::string_view text)>;

class client {
public:
    client(boost::asio::any_io_executor ex, client_options opts);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // POST {base_url}/chat/completions with Authorization: Bearer KEY and stream the answer.
    // Never throws for network or protocol failures: they are reported in the outcome.
    // `cancel` may fire from any thread; the request is aborted promptly (socket closed).
    boost::asio::awaitable<outcome> stream_chat(const chat_request& req, delta_fn on_delta,
                                                cancel_ptr cancel);

    // A plain request (GET /models, balance endpoints, WeChat APIs later). `url` is absolute.
    // Whole exchange bounded by `timeout`. Never throws for network failures.
    boost::asio::awaitable<http_response> request(
        std::string method, std::string url,
        std::vector<std::pair<std::string, std::string>> headers, std::string body,
        std::chrono::milliseconds timeout);

    void set_options(client_options opts);  // takes effect for new connections (SIGHUP)

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace chatd::upstream
