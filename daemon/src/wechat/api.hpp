#pragma once
// The WeChat Official Account HTTP API that login needs: the stable access token (cached until
// five minutes before expiry, one refresh at a time, refreshed when WeChat says it is stale),
// temporary string-scene QR codes, and user info for the unionid. Each fetch of a new token
// retires the previous one after a few minutes, so instances sharing a database share one
// token there: one instance at a time fetches it, under a lease (token_lease_s).
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "store/database.hpp"
#include "upstream/upstream_client.hpp"

namespace chatd::wechat {

struct credentials {
    std::string api_base;  // https://api.weixin.qq.com
    std::string appid;
    std::string secret;
};

// WeChat answered with an errcode (or not at all: errcode 0 and a description).
struct api_error : std::runtime_error {
    int errcode;
    api_error(int code, const std::string& message) : std::runtime_error(message), errcode(code) {}
};

struct qr_code {
    std::string ticket;
    std::string url;  // what the QR encodes
    int expire_seconds = 0;
};

class api {
public:
    // `shared`: the database instances share, or none on a single instance.
    explicit api(upstream::client& http, store::database* shared = nullptr) : http_(http), shared_(shared) {}

    boost::asio::awaitable<std::string> access_token(const credentials& c);
    boost::asio::awaitable<qr_code> create_qr(const credentials& c, const std::string& scene, int expire_seconds);
    // The user's unionid when the account is bound to an Open Platform account.
    boost::asio::awaitable<std::optional<std::string>> unionid_of(const credentials& c, const std::string& openid);

    static constexpr auto timeout = std::chrono::seconds(5);
    // WeChat rotates stable tokens five minutes before expiry; refresh before that.
    static constexpr int refresh_margin_s = 300;
    // How long an instance may take to fetch a shared token before another may try: a normal
    // and a forced fetch, with room to spare.
    static constexpr int token_lease_s = 15;

private:
    // An authenticated call; on 40001/42001 the token is refreshed and the call made once more.
    boost::asio::awaitable<boost::json::object> call(const credentials& c, std::string method, std::string path,
                                                     std::string body);
    boost::asio::awaitable<boost::json::object> send(std::string method, std::string url, std::string body);
    struct fetched_token {
        std::string token;
        std::int64_t keep_s = 0;  // how long to use it
    };
    boost::asio::awaitable<fetched_token> fetch_token(const credentials& c, bool force);
    // From the shared database (or fetched for it); `key`: api_base and appid.
    boost::asio::awaitable<std::string> shared_token(const credentials& c, const std::string& key);
    // The cached token while it is valid; clears the cache when the account changed.
    std::optional<std::string> cached_token(const std::string& key);
    void cache_token(const std::string& token, std::int64_t keep_s);
    boost::asio::awaitable<void> forget_token(const credentials& c, const std::string& token);

    upstream::client& http_;
    store::database* shared_;
    std::mutex mu_;
    std::string cache_for_;  // api_base + appid the cached token belongs to
    std::string token_;
    std::chrono::steady_clock::time_point valid_until_{};
    bool refreshing_ = false;
    std::string rejected_;  // the last token WeChat called stale
    std::chrono::steady_clock::time_point last_forced_{};
};

}  // namespace chatd::wechat
