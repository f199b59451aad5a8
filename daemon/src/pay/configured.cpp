#include "pay/configured.hpp"

#include <stdexcept>

#include "pay/alipay.hpp"
#include "pay/epay.hpp"
#include "pay/wechat_pay.hpp"
#include "util/text.hpp"

namespace chatd::pay {

std::vector<std::unique_ptr<provider>> configured_providers(const config& c, upstream::client& http) {
    std::vector<std::unique_ptr<provider>> out;
    if (c.pay.epay.configured()) {
        epay_account a{c.pay.epay.pid, c.pay.epay.key, c.pay.epay.api_base, split_list(c.pay.epay.types),
                       c.public_url + "/"};
        if (a.api_base.back() != '/') a.api_base += '/';
        out.push_back(std::make_unique<epay>(http, std::move(a)));
    }
    try {
        if (const auto& w = c.pay.wechat; w.configured()) {
            auto base = w.api_base;
            while (!base.empty() && base.back() == '/') base.pop_back();
            out.push_back(std::make_unique<wechat_pay>(
                http, wechat_pay_account{w.mchid, w.appid, w.api_v3_key, w.serial_no,
                                         rsa_key::private_key_file(w.private_key_file),
                                         rsa_key::public_key_file(w.platform_public_key_file),
                                         w.platform_public_key_id, base}));
        }
        if (const auto& a = c.pay.alipay; a.configured())
            out.push_back(std::make_unique<alipay>(
                http, alipay_account{a.app_id, rsa_key::private_key_file(a.private_key_file),
                                     rsa_key::public_key_file(a.alipay_public_key_file), a.gateway}));
    } catch (const key_error& e) {
        throw std::runtime_error(std::string("[pay]: ") + e.what());
    }
    return out;
}

}  // namespace chatd::pay
