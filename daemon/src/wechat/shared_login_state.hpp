#pragma once
// WeChat login state in the database that several instances share ([store] backend =
// postgres): any instance can serve any step of a login, and each once-only step is one
// conditional statement (store/postgres/wechat_logins.cpp). Codes are stored as a hash keyed
// with the account's secret: they are credentials, and a copy of the table gives none away.
#include <cstdint>
#include <mutex>
#include <functional>

#include "store/database.hpp"
#include "wechat/login_state.hpp"

namespace chatd::wechat {

class shared_login_state final : public login_state {
public:
    // `code_key`: what codes are hashed with (the account's appid and secret).
    shared_login_state(store::database& db, std::function<std::string()> code_key);

    boost::asio::awaitable<std::optional<started_login>> reuse(const std::string& browser,
                                                               const std::string& invite) override;
    boost::asio::awaitable<bool> add(qr_login login) override;
    boost::asio::awaitable<scan_result> bind(const std::string& scene, const std::string& ticket,
                                             const std::string& openid) override;
    boost::asio::awaitable<scanned_login> poll(const std::string& ticket, const std::string& browser) override;
    boost::asio::awaitable<std::optional<std::string>> issue_code(const std::string& openid, int lifetime_s,
                                                                  std::function<std::string()> new_code) override;
    boost::asio::awaitable<code_attempt> redeem_code(const std::string& code) override;
    boost::asio::awaitable<push_memory::admission> admit_push(const std::string& timestamp, const std::string& nonce,
                                                              const std::string& message) override;
    boost::asio::awaitable<void> answered(const std::string& message, const std::string& reply) override;
    boost::asio::awaitable<void> forget(const std::string& message) override;

private:
    std::string hash_of(const std::string& code) const;

    store::database& db_;
    std::function<std::string()> code_key_;
    // The lockout as this instance saw it, for its log lines.
    std::mutex lockout_mu_;
    int refused_ = 0;  // attempts refused since the budget ran out
    std::int64_t last_refused_ms_ = 0;
};

}  // namespace chatd::wechat
