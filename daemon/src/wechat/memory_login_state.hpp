#pragma once
// WeChat login state of a single instance (SQLite), in memory: polls and pushes cost no
// database call, and a restart only means scanning again.
#include <chrono>
#include <mutex>
#include <unordered_map>

#include "wechat/guess_budget.hpp"
#include "wechat/login_state.hpp"

namespace chatd::wechat {

class memory_login_state final : public login_state {
public:
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
    using clock = std::chrono::steady_clock;
    struct pending {
        std::string scene, browser, invite, openid, qr_url;
        clock::time_point expires;
    };
    struct issued_code {
        std::string openid;
        clock::time_point expires;
    };
    void sweep(clock::time_point now);
    // Forgets a login with its scene and, when it is the browser's newest, its browser.
    void erase(std::unordered_map<std::string, pending>::iterator it);

    guess_budget guesses_{wrong_codes_per_minute, std::chrono::minutes(1)};
    push_memory pushes_;

    std::mutex mu_;
    std::unordered_map<std::string, pending> by_ticket_;
    std::unordered_map<std::string, std::string> ticket_of_scene_;
    std::unordered_map<std::string, std::string> ticket_of_browser_;
    std::unordered_map<std::string, issued_code> codes_;
    clock::time_point last_sweep_{};
};

}  // namespace chatd::wechat
