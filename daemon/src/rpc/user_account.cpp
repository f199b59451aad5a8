// What a user sees of the site and of their own account: site info, roles and presets, me.*, cards, invites.
#include <boost/asio/use_awaitable.hpp>

#include "billing/cards.hpp"
#include "rpc/handlers.hpp"
#include "util/text.hpp"

namespace chatd::rpc {

namespace asio = boost::asio;
using asio::awaitable;

awaitable<json::value> site_info(services& s, const json::value&, call_context&) {
    auto cfg = s.get_config();
    json::array methods;
    if (cfg->wechat.mode == "qr") methods.emplace_back("wechat_qr");
    if (cfg->wechat.mode == "code") methods.emplace_back("wechat_code");
    if (cfg->auth.password) methods.emplace_back("password");
    json::array models;
    for (auto& m : s.chat.models())
        if (m.enabled)
            models.push_back(json::object{
                {"id", m.id}, {"name", m.name}, {"cost", m.cost}, {"vision", m.vision}, {"reasoning", m.reasoning}});
    co_return json::object{{"name", s.site.get("site.name")},
                           {"announcement", s.site.get("site.announcement")},
                           {"logo_url", s.site.get("site.logo_url")},
                           {"tagline", s.site.get("site.tagline")},
                           {"shop_url", s.site.get("site.shop_url")},
                           {"trial_questions", s.site.get_int("billing.trial_questions")},
                           {"referral_signup_reward", s.site.get_int("referral.signup_reward")},
                           {"referral_paid_percent", s.site.get_int("referral.paid_percent")},
                           {"login_methods", std::move(methods)},
                           {"default_theme", s.site.get("site.default_theme")},
                           {"models", std::move(models)},
                           {"default_model", s.chat.default_model()},
                           {"allow_custom_system_prompt", s.site.get_bool("chat.allow_custom_system_prompt")},
                           {"api_enabled", s.site.get_bool("api.enabled")}};
}

awaitable<json::value> roles_list(services& s, const json::value&, call_context&) {
    json::array items;
    for (auto& r : co_await s.catalog.roles())
        if (r.enabled) items.push_back(json::object{{"id", r.id}, {"name", r.name}, {"description", r.description}});
    co_return json::object{{"items", std::move(items)}};
}

awaitable<json::value> presets_list(services& s, const json::value&, call_context&) {
    json::array items;
    for (auto& p : co_await s.catalog.presets()) items.push_back(json::object{{"id", p.id}, {"text", p.text}});
    co_return json::object{{"items", std::move(items)}};
}

awaitable<json::value> me_get(services& s, const json::value&, call_context& ctx) {
    auto id = ctx.require_user().id;
    auto u = co_await s.accounts.user(id);
    if (!u) fail("unauthorized", "请先登录 (please log in)");
    co_return user_json(*u);
}

awaitable<json::value> me_update(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    store::profile_change change{p.opt_str("name"), p.opt_str("theme"), p.opt_bool("show_api_history")};
    if (auto& name = change.name) {
        *name = trim(*name);
        auto n = utf8_length(*name);
        if (n < 1 || n > 32) fail("invalid_params", "name: 1 to 32 characters");
    }
    if (change.theme && !is_theme(*change.theme))
        fail("invalid_params", "theme: light, dark, system or sepia");
    auto id = ctx.require_user().id;
    co_return user_json(co_await s.accounts.update_profile(id, std::move(change)));
}

awaitable<json::value> cards_redeem(services& s, const json::value& v, call_context& ctx) {
    auto uid = ctx.require_user().id;
    std::string key = "redeem:" + std::to_string(uid);
    constexpr int max_failures = 5;
    // Counted before the lookup so concurrent guesses cannot all pass; a card that
    // redeems takes its count back.
    auto attempt = co_await s.abuse.allow(key, max_failures, std::chrono::minutes(15));
    if (!attempt)
        fail("too_many_attempts", "尝试次数过多，请 15 分钟后再试 (too many failed attempts; wait 15 minutes)");
    auto code = billing::normalise_card_code(params(v).str("code"));
    std::optional<billing::balance> bal;
    std::string reason, message;
    std::exception_ptr not_a_guess;
    if (!code) {
        reason = "card_invalid";
        message = "充值卡无效 (no such card)";
    } else {
        try {
            bal = co_await s.cards.redeem(uid, *code, chat::unix_now(), s.site.get_int("referral.paid_percent"));
        } catch (const app_error& e) {
            if (!e.reason.starts_with("card_")) {
                not_a_guess = std::current_exception();
            } else {
                reason = e.reason;
                message = e.what();
            }
        }
    }
    if (not_a_guess) {
        co_await s.abuse.release(*attempt);
        std::rethrow_exception(not_a_guess);
    }
    if (!bal) fail(reason, message);
    co_await s.abuse.release(*attempt);
    co_return json::object{{"balance", chat::balance_to_json(*bal, chat::unix_now())}};
}

awaitable<json::value> me_ledger(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto page = page_of(p, 20, 100);
    auto uid = ctx.require_user().id;
    auto [rows, next] = co_await s.ledger.rows(uid, page);
    co_return page_json(ledger_json(rows), next);
}

awaitable<json::value> invite_info(services& s, const json::value&, call_context& ctx) {
    const auto& u = ctx.require_user();
    auto stats = co_await s.ledger.invites(u.id);
    co_return json::object{{"code", u.invite_code},
                           {"link", ctx.origin + "/?ref=" + u.invite_code},
                           {"invited", stats.invited},
                           {"rewarded_questions", stats.rewarded}};
}

}  // namespace chatd::rpc
