#pragma once
// Alipay face-to-face precreate (当面付): RSA2 forms to the gateway (sign_type signed too), the
// answer's `*_response` text checked byte for byte with the Alipay public key, notifications
// checked the same way over their sorted fields (without sign and sign_type).
#include <boost/json/object.hpp>
#include <string>

#include "pay/form.hpp"
#include "pay/provider.hpp"
#include "pay/signing.hpp"
#include "upstream/upstream_client.hpp"

namespace chatd::pay {

struct alipay_account {
    std::string app_id;
    rsa_key app_key;     // signs requests
    rsa_key alipay_key;  // checks answers and notifications
    std::string gateway;  // https://openapi.alipay.com/gateway.do
};

// The exact text of `"<name>":{…}` 's value inside an answer, braces included, as Alipay signed
// it (escapes such as \/ kept); empty when it is not there.
std::string alipay_signed_part(std::string_view body, std::string_view name);

class alipay final : public provider {
public:
    alipay(upstream::client& http, alipay_account account) : http_(http), account_(std::move(account)) {}

    std::string name() const override { return "alipay"; }
    std::vector<std::string> channels() const override { return {"alipay"}; }
    boost::asio::awaitable<placed> place(const store::order_row& order, const std::string& notify_url,
                                         const std::string& client_ip) override;
    boost::asio::awaitable<trade> query(const store::order_row& order) override;
    boost::asio::awaitable<void> close(const store::order_row& order) override;
    checked_notice check(const net::request& notification) const override;
    net::response accepted() const override;
    net::response refused() const override;

private:
    // One gateway call; the checked `*_response` object.
    boost::asio::awaitable<boost::json::object> call(std::string method, boost::json::object biz,
                                                     std::string notify_url = {});

    upstream::client& http_;
    alipay_account account_;
};

}  // namespace chatd::pay
