#pragma once
// The public listener's and the admin socket's routes (CONTRACT §3): JSON-RPC, the answer
// streams, uploads (uploads.cpp), the OpenAI-compatible API (openai_api.cpp), WeChat's
// callback, health and metrics, the SPA's files; and the policies at that
// door: the Origin check on POSTs and the client's address behind trusted proxies.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "chat/chat_service.hpp"
#include "config/config.hpp"
#include "config/settings.hpp"
#include "net/http.hpp"
#include "net/http_server.hpp"
#include "web/openai_wire.hpp"

namespace chatd {
namespace auth { class api_keys; class auth_service; }
namespace chat { class attachments; class chat_service; }
namespace net { class static_files; }
namespace pay { class payments; }
namespace rpc { class dispatcher; }
namespace upstream { class key_pool; }
namespace wechat { class login_service; }
}  // namespace chatd

namespace chatd::web {

struct front_end_parts {
    std::function<std::shared_ptr<const config>()> config;
    auth::auth_service& auth;
    auth::api_keys& api_keys;  // users' keys for the OpenAI-compatible API
    chat::chat_service& chat;
    chat::attachments& uploads;
    const rpc::dispatcher& dispatcher;
    upstream::key_pool& pool;
    wechat::login_service& wechat;
    pay::payments& payments;
    const settings& site;  // the operator's run-time settings (brand, logo)
    const net::static_files& files;
    std::function<std::size_t()> connections;  // open HTTP connections
    std::function<bool()> stopping;            // draining for shutdown
    std::function<bool()> storage_full;        // the database found no room on disk
    std::chrono::steady_clock::time_point started;
    std::function<std::vector<double>()> loop_lags;  // each event loop's worst recent delay, seconds
    std::function<double()> database_write_worst;    // the longest recent write to the database, seconds
};

class front_end {
public:
    explicit front_end(front_end_parts parts) : p_(std::move(parts)) {}

    boost::asio::awaitable<void> route(net::request& req, net::responder& r);
    // The listeners' limits: uploads may send up to [uploads] max_bytes, and take longer.
    net::server_limits limits() const;

private:
    boost::asio::awaitable<void> route_other(net::request& req, net::responder& r);
    boost::asio::awaitable<void> handle_rpc(net::request& req, net::responder& r);
    struct stream_request {
        chat::stream_source source;
        std::size_t after = 0;            // the last event id the client has
        std::optional<net::response> refusal;
    };
    boost::asio::awaitable<stream_request> stream_of(const net::request& req, std::string_view id_text);
    boost::asio::awaitable<void> handle_stream(net::request& req, net::responder& r, std::string_view id_text);
    boost::asio::awaitable<void> handle_upload(net::request& req, net::responder& r);
    boost::asio::awaitable<void> handle_file(net::request& req, net::responder& r, std::string_view id);
    bool origin_allowed(const net::request& req) const;
    // The OpenAI-compatible API under /v1 (openai_api.cpp).
    boost::asio::awaitable<void> handle_openai(net::request& req, net::responder& r);
    struct api_access {
        std::optional<store::api_caller> caller;
        std::optional<net::response> refusal;
    };
    boost::asio::awaitable<api_access> api_caller_of(const net::request& req);
    boost::asio::awaitable<void> handle_completion(net::request& req, net::responder& r, store::api_caller caller);
    boost::asio::awaitable<void> stream_completion(net::responder& r, const store::user_row& user,
                                                   chat::stream_source source, const openai::completion_head& head,
                                                   bool include_usage);
    boost::asio::awaitable<void> whole_completion(net::responder& r, chat::stream_source source,
                                                  const openai::completion_head& head);

    front_end_parts p_;
};

// GET /manifest.webmanifest: the site's name, tagline and icons.
std::string web_manifest(const settings& site);

// Prometheus text for GET /metrics.
std::string metrics_text(chat::chat_service& chat, upstream::key_pool& pool, std::size_t connections,
                         std::chrono::steady_clock::time_point started, const std::vector<double>& loop_lags,
                         double database_write_worst);

}  // namespace chatd::web
