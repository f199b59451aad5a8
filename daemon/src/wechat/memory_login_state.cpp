#include "wechat/memory_login_state.hpp"

#include "util/random.hpp"

namespace chatd::wechat {

using boost::asio::awaitable;

void memory_login_state::erase(std::unordered_map<std::string, pending>::iterator it) {
    ticket_of_scene_.erase(it->second.scene);
    if (auto b = ticket_of_browser_.find(it->second.browser); b != ticket_of_browser_.end() && b->second == it->first)
        ticket_of_browser_.erase(b);
    by_ticket_.erase(it);
}

void memory_login_state::sweep(clock::time_point now) {
    if (now - last_sweep_ < std::chrono::seconds(30)) return;
    last_sweep_ = now;
    for (auto it = by_ticket_.begin(); it != by_ticket_.end();) {
        auto next = std::next(it);
        if (it->second.expires <= now) erase(it);
        it = next;
    }
    std::erase_if(codes_, [&](const auto& kv) { return kv.second.expires <= now; });
}

awaitable<std::optional<started_login>> memory_login_state::reuse(const std::string& browser,
                                                                  const std::string& invite) {
    std::lock_guard lock(mu_);
    auto now = clock::now();
    sweep(now);
    auto t = ticket_of_browser_.find(browser);
    if (t == ticket_of_browser_.end()) co_return std::nullopt;
    auto& p = by_ticket_.at(t->second);
    auto left = std::chrono::duration_cast<std::chrono::seconds>(p.expires - now).count();
    if (!p.openid.empty() || left <= reuse_min_left_s) co_return std::nullopt;
    p.invite = invite;
    co_return started_login{t->second, p.qr_url, static_cast<int>(left)};
}

awaitable<bool> memory_login_state::add(qr_login login) {
    std::lock_guard lock(mu_);
    if (auto old = ticket_of_browser_.find(login.browser); old != ticket_of_browser_.end()) {
        if (auto o = by_ticket_.find(old->second); o != by_ticket_.end()) erase(o);
    }
    if (by_ticket_.size() >= max_pending_logins) co_return false;
    ticket_of_scene_[login.scene] = login.ticket;
    ticket_of_browser_[login.browser] = login.ticket;
    by_ticket_[login.ticket] = {login.scene, login.browser, login.invite, "", login.qr_url,
                                clock::now() + std::chrono::seconds(login.lifetime_s)};
    co_return true;
}

awaitable<scan_result> memory_login_state::bind(const std::string& scene, const std::string& ticket,
                                                const std::string& openid) {
    std::lock_guard lock(mu_);
    auto t = ticket_of_scene_.find(scene);
    if (t == ticket_of_scene_.end() || (!ticket.empty() && ticket != t->second)) co_return scan_result::expired;
    auto& p = by_ticket_.at(t->second);
    if (p.expires <= clock::now()) co_return scan_result::expired;
    if (!p.openid.empty() && p.openid != openid) co_return scan_result::taken;
    p.openid = openid;
    co_return scan_result::bound;
}

awaitable<scanned_login> memory_login_state::poll(const std::string& ticket, const std::string& browser) {
    std::lock_guard lock(mu_);
    auto now = clock::now();
    sweep(now);
    scanned_login r;
    auto it = by_ticket_.find(ticket);
    if (it == by_ticket_.end() || !constant_time_equal(it->second.browser, browser)) {
        r.status = scanned_login::state::expired;
        co_return r;
    }
    auto& p = it->second;
    if (p.expires <= now) r.status = scanned_login::state::expired;
    else if (p.openid.empty()) co_return r;
    else r = {scanned_login::state::confirmed, p.openid, p.invite};
    erase(it);
    co_return r;
}

awaitable<std::optional<std::string>> memory_login_state::issue_code(const std::string& openid, int lifetime_s,
                                                                     std::function<std::string()> new_code) {
    std::lock_guard lock(mu_);
    auto now = clock::now();
    sweep(now);
    if (codes_.size() >= max_codes) co_return std::nullopt;
    std::string code;
    do code = new_code();
    while (codes_.contains(code));
    codes_[code] = {openid, now + std::chrono::seconds(lifetime_s)};
    co_return code;
}

awaitable<code_attempt> memory_login_state::redeem_code(const std::string& code) {
    auto slot = guesses_.reserve();
    if (!slot) co_return code_attempt{.refused = true};
    std::lock_guard lock(mu_);
    auto it = codes_.find(code);
    if (it == codes_.end()) co_return code_attempt{};
    auto c = std::move(it->second);
    codes_.erase(it);
    if (c.expires <= clock::now()) co_return code_attempt{};
    guesses_.give_back(*slot);
    co_return code_attempt{.openid = std::move(c.openid)};
}

awaitable<push_memory::admission> memory_login_state::admit_push(const std::string& timestamp,
                                                                 const std::string& nonce,
                                                                 const std::string& message) {
    co_return pushes_.admit(timestamp, nonce, message);
}

awaitable<void> memory_login_state::answered(const std::string& message, const std::string& reply) {
    pushes_.answered(message, reply);
    co_return;
}

awaitable<void> memory_login_state::forget(const std::string& message) {
    pushes_.forget(message);
    co_return;
}

}  // namespace chatd::wechat
