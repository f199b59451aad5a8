#pragma once
// 易支付 (epay), the aggregator protocol individual operators sell through: MD5-signed forms
// (sign = md5(sorted k=v&… + key)), orders by mapi.php, queries by api.php, notifications by GET
// or POST. It has no close call: an expired order is closed on our side only.
#include <string>
#include <vector>

#include "pay/form.hpp"
#include "pay/provider.hpp"
#include "upstream/upstream_client.hpp"

namespace chatd::pay {

struct epay_account {
    std::string pid, key;
    std::string api_base;            // ends with '/'
    std::vector<std::string> types;  // alipay, wxpay
    std::string return_url;          // where the provider's own page sends the payer back
};

// md5(sign_text(fields) + key), lowercase hex.
std::string epay_signature(const form& fields, const std::string& key);

class epay final : public provider {
public:
    epay(upstream::client& http, epay_account account) : http_(http), account_(std::move(account)) {}

    std::string name() const override { return "epay"; }
    std::vector<std::string> channels() const override;
    boost::asio::awaitable<placed> place(const store::order_row& order, const std::string& notify_url,
                                         const std::string& client_ip) override;
    boost::asio::awaitable<trade> query(const store::order_row& order) override;
    boost::asio::awaitable<void> close(const store::order_row&) override { co_return; }
    checked_notice check(const net::request& notification) const override;
    net::response accepted() const override;
    net::response refused() const override;

private:
    upstream::client& http_;
    epay_account account_;
};

}  // namespace chatd::pay
