// Methods for visitors on the public listener (CONTRACT §5).
#include <boost/asio/use_awaitable.hpp>

#include "billing/cards.hpp"
#include "rpc/services.hpp"
#include "util/random.hpp"
#include "util/text.hpp"

namespace chatd::rpc {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

json::object message_json(const store::message_row& m) {
    json::object o{{"id", m.id},
                   {"parent_id", null_or(m.parent_id)},
                   {"role", m.role},
                   {"content", m.content},
                   {"status", m.status},
                   {"created_at", m.created_at}};
    if (m.role == "assistant") {
        o["model"] = m.model;
        if (!m.error_reason.empty()) o["error"] = json::object{{"reason", m.error_reason}, {"message", m.error_message}};
    }
    return o;
}

json::object conversation_json(const store::conversation_row& c) {
    return json::object{{"id", c.id},         {"title", c.title},
                        {"pinned", c.pinned}, {"updated_at", c.updated_at},
                        {"created_at", c.created_at}, {"model", c.model},
                        {"role_id", null_or(c.role_id)}};
}


auth::client_info client_of(const call_context& ctx) { return {ctx.peer, ctx.user_agent}; }

// Ties a QR login to the browser that started it: only that browser's polls can confirm it.
constexpr std::string_view login_cookie = "chatd_wxlogin";

std::string wechat_mode(services& s) {
    auto mode = s.get_config()->wechat.mode;
    if (mode == "off") throw app_error("forbidden", "本站未开放微信登录 (WeChat login is off)");
    return mode;
}

void add_wechat_methods(dispatcher& d, services& s) {
    d.add({"auth.wechat.start", access::anyone,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto cfg = s.get_config();
               if (wechat_mode(s) == "code") {
                   json::object r{{"mode", "code"}, {"keyword", cfg->wechat.code_keyword}};
                   if (!cfg->wechat.account_qr_url.empty()) r["account_qr_url"] = cfg->wechat.account_qr_url;
                   co_return r;
               }
               auto browser = auth::auth_service::cookie_value(ctx.cookies, login_cookie);
               if (browser.size() < 20 || browser.size() > 64) {
                   browser = random_token(24);
                   ctx.set_cookies.push_back(std::string(login_cookie) + "=" + browser +
                                             "; Path=/rpc; HttpOnly; SameSite=Lax; Max-Age=3600" +
                                             (ctx.secure ? "; Secure" : ""));
               }
               auto started = co_await s.wechat.start(sha256_hex(browser), ctx.peer, p.opt_str("invite").value_or(""));
               co_return json::object{{"mode", "qr"},
                                      {"ticket", started.ticket},
                                      {"qr_url", started.qr_url},
                                      {"expires_in", started.expires_in}};
           }});

    d.add({"auth.wechat.poll", access::anyone,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               if (wechat_mode(s) != "qr") throw app_error("forbidden", "本站未开放扫码登录 (QR login is off)");
               auto browser = auth::auth_service::cookie_value(ctx.cookies, login_cookie);
               auto scanned = s.wechat.poll(p.str("ticket"), sha256_hex(browser));
               using state = wechat::scanned_login::state;
               if (scanned.status == state::pending) co_return json::object{{"status", "pending"}};
               if (scanned.status == state::expired) co_return json::object{{"status", "expired"}};
               auto account = s.wechat.account();
               auto r = co_await s.auth.login_wechat(
                   scanned.openid, client_of(ctx), ctx.secure, scanned.invite,
                   [&s, account, openid = scanned.openid]() { return s.wechat_api.unionid_of(account, openid); });
               ctx.set_cookies.push_back(r.set_cookie);
               co_return json::object{{"status", "confirmed"}, {"user", user_json(r.user)}};
           }});

    d.add({"auth.wechat.code", access::anyone,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               if (wechat_mode(s) != "code") throw app_error("forbidden", "本站未开放验证码登录 (code login is off)");
               auto code = trim(p.str("code"));
               auto limit = static_cast<int>(s.site.get_int("limits.login_attempts_per_15min"));
               auto key = "wxcode:" + ctx.peer;
               // The attempt is counted before its code is checked, so a concurrent burst from one
               // address cannot get past the limit; only wrong codes keep their count.
               auto attempted = std::chrono::steady_clock::now();
               if (!s.abuse.allow(key, limit, std::chrono::minutes(15), attempted))
                   throw app_error("too_many_requests", "尝试太多，请 15 分钟后再试 (too many attempts; wait 15 minutes)");
               std::optional<std::string> openid;
               try {
                   openid = s.wechat.redeem_code(code);
               } catch (...) {
                   s.abuse.release(key, attempted);  // refused by the site-wide budget: nothing was checked
                   throw;
               }
               if (!openid) throw app_error("login_expired", "验证码错误或已过期 (wrong or expired code)");
               s.abuse.release(key, attempted);
               auto r = co_await s.auth.login_wechat(*openid, client_of(ctx), ctx.secure,
                                                     p.opt_str("invite").value_or(""));
               ctx.set_cookies.push_back(r.set_cookie);
               co_return json::object{{"user", user_json(r.user)}};
           }});
}

}  // namespace

store::page_cursor page_of(const params& p, int default_limit, int most) {
    store::page_cursor page;
    page.after = p.opt_str("cursor");
    page.limit = static_cast<int>(std::clamp<std::int64_t>(p.opt_i64("limit").value_or(default_limit), 1, most));
    return page;
}

json::object page_json(json::array items, const std::optional<std::string>& next) {
    return json::object{{"items", std::move(items)}, {"next_cursor", next ? json::value(*next) : json::value(nullptr)}};
}

json::array ledger_json(const std::vector<store::ledger_row>& rows) {
    json::array items;
    for (auto& l : rows)
        items.push_back(json::object{{"at", l.at}, {"delta_trial", l.delta_trial}, {"delta_paid", l.delta_paid},
                                     {"reason", l.reason}, {"ref", null_or(l.ref)}});
    return items;
}

json::object user_json(const store::user_row& u) {
    auto now = chat::unix_now();
    json::object o{{"id", u.id},
                   {"name", u.name},
                   {"is_admin", u.is_admin},
                   {"theme", u.theme},
                   {"invite_code", u.invite_code},
                   {"balance", chat::balance_to_json(u.balance, now)}};
    if (u.avatar) o["avatar"] = *u.avatar;
    if (u.username) o["username"] = *u.username;
    return o;
}

json::object conversation_detail(store::store& st, const store::conversation_row& c) {
    auto o = conversation_json(c);
    o["current_leaf_id"] = null_or(c.current_leaf_id);
    o["system_prompt"] = null_or(c.system_prompt);
    json::array msgs;
    for (auto& m : st.conversation_messages(c.id)) msgs.push_back(message_json(m));
    o["messages"] = std::move(msgs);
    return o;
}

void add_user_methods(dispatcher& d, services& s) {
    d.add({"site.info", access::anyone, [&s](const json::value&, call_context&) -> awaitable<json::value> {
               auto cfg = s.get_config();
               json::array methods;
               if (cfg->wechat.mode == "qr") methods.emplace_back("wechat_qr");
               if (cfg->wechat.mode == "code") methods.emplace_back("wechat_code");
               if (cfg->auth.password) methods.emplace_back("password");
               json::array models;
               for (auto& m : s.chat.models())
                   if (m.enabled) models.push_back(json::object{{"id", m.id}, {"name", m.name}, {"cost", m.cost}});
               co_return json::object{{"name", s.site.get("site.name")},
                                      {"announcement", s.site.get("site.announcement")},
                                      {"login_methods", std::move(methods)},
                                      {"default_theme", s.site.get("site.default_theme")},
                                      {"models", std::move(models)},
                                      {"default_model", s.chat.default_model()},
                                      {"allow_custom_system_prompt", s.site.get_bool("chat.allow_custom_system_prompt")}};
           }});

    d.add({"roles.list", access::anyone, [&s](const json::value&, call_context&) -> awaitable<json::value> {
               auto rows = co_await s.db.run([](store::store& st) { return st.roles(); });
               json::array items;
               for (auto& r : rows)
                   if (r.enabled) items.push_back(json::object{{"id", r.id}, {"name", r.name}, {"description", r.description}});
               co_return json::object{{"items", std::move(items)}};
           }});

    d.add({"presets.list", access::anyone, [&s](const json::value&, call_context&) -> awaitable<json::value> {
               auto rows = co_await s.db.run([](store::store& st) { return st.presets(); });
               json::array items;
               for (auto& p : rows) items.push_back(json::object{{"id", p.id}, {"text", p.text}});
               co_return json::object{{"items", std::move(items)}};
           }});

    d.add({"auth.password.register", access::anyone,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto invite = p.opt_str("invite").value_or("");
               auto r = co_await s.auth.register_password(p.str("username"), p.str("password"), client_of(ctx),
                                                          ctx.secure, invite);
               ctx.set_cookies.push_back(r.set_cookie);
               co_return json::object{{"user", user_json(r.user)}};
           }});

    d.add({"auth.password.login", access::anyone,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto r = co_await s.auth.login_password(p.str("username"), p.str("password"), client_of(ctx), ctx.secure);
               ctx.set_cookies.push_back(r.set_cookie);
               co_return json::object{{"user", user_json(r.user)}};
           }});

    add_wechat_methods(d, s);

    d.add({"auth.logout", access::anyone, [&s](const json::value&, call_context& ctx) -> awaitable<json::value> {
               co_await s.auth.logout(ctx.session_token_hash);
               ctx.set_cookies.push_back(s.auth.clear_cookie(ctx.secure));
               co_return json::object{};
           }});

    d.add({"me.get", access::user, [&s](const json::value&, call_context& ctx) -> awaitable<json::value> {
               auto id = ctx.require_user().id;
               auto u = co_await s.db.run([id](store::store& st) { return st.user_by_id(id); });
               if (!u) fail("unauthorized", "请先登录 (please log in)");
               co_return user_json(*u);
           }});

    d.add({"me.update", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto name = p.opt_str("name");
               auto theme = p.opt_str("theme");
               if (name) {
                   *name = trim(*name);
                   auto n = utf8_length(*name);
                   if (n < 1 || n > 32) fail("invalid_params", "name: 1 to 32 characters");
               }
               if (theme && !is_theme(*theme))
                   fail("invalid_params", "theme: light, dark, system or sepia");
               auto id = ctx.require_user().id;
               auto u = co_await s.db.run([&](store::store& st) {
                   st.update_user(id, name, theme);
                   return *st.user_by_id(id);
               });
               co_return user_json(u);
           }});

    d.add({"chat.send", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               chat::send_request r;
               r.content = p.str("content");
               r.conversation_id = p.opt_i64("conversation_id");
               r.model = p.opt_str("model");
               r.role_id = p.opt_i64("role_id");
               r.system_prompt = p.opt_str("system_prompt");
               r.parent_id = p.opt_i64("parent_id");
               co_return co_await s.chat.send(ctx.require_user(), std::move(r));
           }});

    d.add({"chat.regenerate", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               co_return co_await s.chat.regenerate(ctx.require_user(), p.i64("message_id"));
           }});

    d.add({"chat.stop", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               co_await s.chat.stop(ctx.require_user(), p.i64("message_id"));
               co_return json::object{};
           }});

    d.add({"cards.redeem", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               auto uid = ctx.require_user().id;
               std::string key = "redeem:" + std::to_string(uid);
               constexpr int max_failures = 5;
               // Counted before the lookup so concurrent guesses cannot all pass; a card that
               // redeems takes its count back.
               auto attempted = std::chrono::steady_clock::now();
               if (!s.abuse.allow(key, max_failures, std::chrono::minutes(15), attempted))
                   fail("too_many_attempts", "尝试次数过多，请 15 分钟后再试 (too many failed attempts; wait 15 minutes)");
               auto code = billing::normalise_card_code(params(v).str("code"));
               std::optional<billing::balance> bal;
               std::string reason, message;
               if (!code) {
                   reason = "card_invalid";
                   message = "充值卡无效 (no such card)";
               } else {
                   try {
                       bal = co_await s.db.run([uid, c = *code, pct = s.site.get_int("referral.paid_percent")](store::store& st) {
                           return st.redeem_card(uid, c, chat::unix_now(), pct);
                       });
                   } catch (const app_error& e) {
                       if (!e.reason.starts_with("card_")) {
                           s.abuse.release(key, attempted);
                           throw;
                       }
                       reason = e.reason;
                       message = e.what();
                   }
               }
               if (!bal) fail(reason, message);
               s.abuse.release(key, attempted);
               co_return json::object{{"balance", chat::balance_to_json(*bal, chat::unix_now())}};
           }});

    d.add({"me.ledger", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto page = page_of(p, 20, 100);
               auto uid = ctx.require_user().id;
               std::optional<std::string> next;
               auto rows = co_await s.db.run([&](store::store& st) { return st.ledger(uid, page, next); });
               co_return page_json(ledger_json(rows), next);
           }});

    d.add({"invite.info", access::user, [&s](const json::value&, call_context& ctx) -> awaitable<json::value> {
               const auto& u = ctx.require_user();
               auto stats = co_await s.db.run([id = u.id](store::store& st) { return st.invites(id); });
               co_return json::object{{"code", u.invite_code},
                                      {"link", ctx.origin + "/?ref=" + u.invite_code},
                                      {"invited", stats.invited},
                                      {"rewarded_questions", stats.rewarded}};
           }});

    d.add({"conversations.list", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto page = page_of(p, 20, 100);
               auto query = p.opt_str("query").value_or("");
               auto uid = ctx.require_user().id;
               std::optional<std::string> next;
               auto rows = co_await s.db.run([&](store::store& st) { return st.conversations(uid, query, page, next); });
               json::array items;
               for (auto& c : rows) items.push_back(conversation_json(c));
               co_return page_json(std::move(items), next);
           }});

    d.add({"conversations.get", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto id = p.i64("id");
               auto uid = ctx.require_user().id;
               co_return co_await s.db.run([&](store::store& st) -> json::value {
                   auto c = st.conversation(id);
                   if (!c || c->user_id != uid || c->deleted_at) throw app_error("not_found", "no such conversation");
                   return conversation_detail(st, *c);
               });
           }});

    d.add({"conversations.rename", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto id = p.i64("id");
               auto title = trim(p.str("title"));
               if (title.empty() || utf8_length(title) > 100) fail("invalid_params", "title: 1 to 100 characters");
               auto uid = ctx.require_user().id;
               bool ok = co_await s.db.run([&](store::store& st) { return st.rename_conversation(uid, id, title, chat::unix_now()); });
               if (!ok) fail("not_found", "no such conversation");
               co_return json::object{};
           }});

    d.add({"conversations.delete", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto id = p.i64("id");
               auto uid = ctx.require_user().id;
               bool ok = co_await s.db.run([&](store::store& st) { return st.delete_conversation(uid, id, chat::unix_now()); });
               if (!ok) fail("not_found", "no such conversation");
               co_return json::object{};
           }});

    d.add({"conversations.pin", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto id = p.i64("id");
               auto pinned = p.opt_bool("pinned");
               if (!pinned) fail("invalid_params", "missing 'pinned'");
               auto uid = ctx.require_user().id;
               bool ok = co_await s.db.run([&](store::store& st) { return st.pin_conversation(uid, id, *pinned); });
               if (!ok) fail("not_found", "no such conversation");
               co_return json::object{};
           }});
}

}  // namespace chatd::rpc
