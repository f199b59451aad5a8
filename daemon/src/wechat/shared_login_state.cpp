#include "wechat/shared_login_state.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

#include "util/random.hpp"
#include "util/unix_time.hpp"

namespace chatd::wechat {

using boost::asio::awaitable;

namespace {

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

shared_login_state::shared_login_state(store::database& db, std::function<std::string()> code_key)
    : db_(db), code_key_(std::move(code_key)) {}

std::string shared_login_state::hash_of(const std::string& code) const {
    return sha256_hex("chatd wechat login code\n" + code_key_() + "\n" + code);
}

awaitable<std::optional<started_login>> shared_login_state::reuse(const std::string& browser,
                                                                  const std::string& invite) {
    auto now = unix_now();
    auto row = co_await db_.run([browser, invite, now](store::store& s) {
        return s.reuse_wechat_login(browser, invite, now + reuse_min_left_s);
    });
    if (!row) co_return std::nullopt;
    co_return started_login{row->ticket, row->qr_url, static_cast<int>(row->expires_at - now)};
}

awaitable<bool> shared_login_state::add(qr_login login) {
    auto now = unix_now();
    store::wechat_login_row row{login.ticket, login.scene, login.browser, login.invite, "", login.qr_url,
                                now + login.lifetime_s};
    co_return co_await db_.run([row = std::move(row), now](store::store& s) {
        return s.add_wechat_login(row, now, max_pending_logins);
    });
}

awaitable<scan_result> shared_login_state::bind(const std::string& scene, const std::string& ticket,
                                                const std::string& openid) {
    auto bound = co_await db_.run([scene, ticket, openid, now = unix_now()](store::store& s) {
        return s.bind_wechat_login(scene, ticket, openid, now);
    });
    switch (bound) {
        case store::wechat_scan::bound: co_return scan_result::bound;
        case store::wechat_scan::taken: co_return scan_result::taken;
        case store::wechat_scan::expired: break;
    }
    co_return scan_result::expired;
}

awaitable<scanned_login> shared_login_state::poll(const std::string& ticket, const std::string& browser) {
    auto now = unix_now();
    auto row = co_await db_.run([ticket, browser, now](store::store& s) {
        return s.take_wechat_login(ticket, browser, now);
    });
    scanned_login r;
    if (!row || row->expires_at <= now) r.status = scanned_login::state::expired;
    else if (!row->openid.empty()) r = {scanned_login::state::confirmed, row->openid, row->invite};
    co_return r;
}

awaitable<std::optional<std::string>> shared_login_state::issue_code(const std::string& openid, int lifetime_s,
                                                                     std::function<std::string()> new_code) {
    for (;;) {
        auto code = new_code();
        auto now = unix_now();
        auto added = co_await db_.run([hash = hash_of(code), openid, now, lifetime_s](store::store& s) {
            return s.add_wechat_code(hash, openid, now + lifetime_s, now, max_codes);
        });
        if (added == store::wechat_code_added::added) co_return code;
        if (added == store::wechat_code_added::full) co_return std::nullopt;
        // A clash with a waiting code: draw again.
    }
}

awaitable<code_attempt> shared_login_state::redeem_code(const std::string& code) {
    auto now = unix_ms();
    auto attempt = co_await db_.run([hash = hash_of(code), now](store::store& s) {
        return s.redeem_wechat_code(hash, now, 60'000, wrong_codes_per_minute);
    });
    // Never the codes themselves: only that the budget is spent, and how large it is. Answers
    // of a concurrent burst come back in any order: an attempt started before the last refusal
    // says nothing of the window having room again.
    std::lock_guard lock(lockout_mu_);
    if (attempt.refused) {
        if (refused_++ == 0)
            spdlog::warn("wechat: {} wrong login codes within 60 s from all clients, likely a guessing attack; "
                         "code login is refused to everyone until the window has room",
                         wrong_codes_per_minute);
        last_refused_ms_ = std::max(last_refused_ms_, now);
    } else if (refused_ > 0 && now > last_refused_ms_) {
        spdlog::info("wechat: code login open again after refusing {} attempts", refused_);
        refused_ = 0;
    }
    co_return code_attempt{attempt.refused, std::move(attempt.openid)};
}

awaitable<push_memory::admission> shared_login_state::admit_push(const std::string& timestamp,
                                                                 const std::string& nonce,
                                                                 const std::string& message) {
    // Swept by time rather than refused when full: only pushes WeChat signed get this far.
    auto seen = co_await db_.run([signature = timestamp + "/" + nonce, message](store::store& s) {
        return s.admit_wechat_push(signature, message, unix_now(),
                                   std::chrono::duration_cast<std::chrono::seconds>(push_memory::keep).count());
    });
    using verdict = store::wechat_push_admission::verdict;
    switch (seen.what) {
        case verdict::first: co_return push_memory::admission{push_memory::verdict::first, ""};
        case verdict::reused: co_return push_memory::admission{push_memory::verdict::reused, ""};
        case verdict::retry: break;
    }
    co_return push_memory::admission{push_memory::verdict::retry, std::move(seen.reply)};
}

awaitable<void> shared_login_state::answered(const std::string& message, const std::string& reply) {
    co_await db_.run([message, reply](store::store& s) {
        s.answer_wechat_push(message, reply);
        return true;
    });
}

awaitable<void> shared_login_state::forget(const std::string& message) {
    co_await db_.run([message](store::store& s) {
        s.forget_wechat_push(message);
        return true;
    });
}

}  // namespace chatd::wechat
