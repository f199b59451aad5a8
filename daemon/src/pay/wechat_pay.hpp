#pragma once
// WeChat Pay API v3, Native (QR) payment: requests signed WECHATPAY2-SHA256-RSA2048 with the
// merchant key; answers and notifications checked with the WeChat Pay public key (within five
// minutes, probes refused); notification resources opened with AES-256-GCM and the APIv3 key.
#include <string>

#include "pay/provider.hpp"
#include "pay/signing.hpp"
#include "upstream/upstream_client.hpp"

namespace chatd::pay {

struct wechat_pay_account {
    std::string mchid, appid, api_v3_key, serial_no;
    rsa_key merchant_key;        // signs requests
    rsa_key platform_key;        // checks answers and notifications
    std::string platform_key_id;  // Wechatpay-Serial of what platform_key checks
    std::string api_base;        // https://api.mch.weixin.qq.com, no trailing slash
};

class wechat_pay final : public provider {
public:
    wechat_pay(upstream::client& http, wechat_pay_account account) : http_(http), account_(std::move(account)) {}

    std::string name() const override { return "wechat"; }
    std::vector<std::string> channels() const override { return {"wechat"}; }
    boost::asio::awaitable<placed> place(const store::order_row& order, const std::string& notify_url,
                                         const std::string& client_ip) override;
    boost::asio::awaitable<trade> query(const store::order_row& order) override;
    boost::asio::awaitable<void> close(const store::order_row& order) override;
    checked_notice check(const net::request& notification) const override;
    net::response accepted() const override;
    net::response refused() const override;

    // The Authorization header for one request (exposed for the tests).
    std::string authorization(std::string_view method, std::string_view path_and_query, std::string_view body,
                              std::int64_t timestamp, std::string_view nonce) const;
    // Whether the timestamp, nonce and signature headers vouch for `body`; why not otherwise.
    std::string refusal_of(std::string_view timestamp, std::string_view nonce, std::string_view signature,
                           std::string_view serial, std::string_view body, std::int64_t now) const;

private:
    boost::asio::awaitable<upstream::http_response> call(std::string method, std::string path, std::string body);

    upstream::client& http_;
    wechat_pay_account account_;
};

}  // namespace chatd::pay
