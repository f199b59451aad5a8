#include "pay/payments.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "billing/credits.hpp"
#include "config/settings.hpp"
#include "pay/form.hpp"
#include "util/app_error.hpp"
#include "util/random.hpp"
#include "util/text.hpp"
#include "util/unix_time.hpp"

namespace chatd::pay {

namespace asio = boost::asio;
using asio::awaitable;

struct payments::setup {
    std::vector<std::unique_ptr<provider>> providers;
    std::string public_url;
    int order_minutes = 15;

    provider* by_name(std::string_view name) const {
        for (const auto& p : providers)
            if (p->name() == name) return p.get();
        return nullptr;
    }
    provider* by_channel(std::string_view channel) const {
        for (const auto& p : providers)
            for (const auto& c : p->channels())
                if (c == channel) return p.get();
        return nullptr;
    }
};

namespace {

// Unguessable, and within what every provider accepts (letters and digits, 6–32 characters):
// the day it was made, for people reading statements, then 80 random bits.
std::string new_order_no(std::int64_t now) {
    std::time_t t = static_cast<std::time_t>(now);
    std::tm tm{};
    localtime_r(&t, &tm);
    char day[16];
    std::strftime(day, sizeof day, "%Y%m%d", &tm);
    return std::string(day) + random_base32(16);
}

void check_plan(const store::plan_row& p) {
    if (trim(p.name).empty() || p.name.size() > 100 || !valid_utf8(p.name))
        throw app_error("invalid_params", "a plan needs a name of at most 100 bytes");
    if (p.price_cents <= 0 || p.price_cents > 100'000'000)
        throw app_error("invalid_params", "price: more than 0 and at most 1000000 yuan");
    if (p.questions <= 0 || p.questions > 100'000'000) throw app_error("invalid_params", "questions: at least 1");
    if (p.days <= 0 || p.days > 36500) throw app_error("invalid_params", "days: 1 to 36500");
}

}  // namespace

payments::payments(asio::any_io_executor ex, store::database& db, settings& site)
    : ex_(std::move(ex)), db_(db), site_(site), setup_(std::make_shared<setup>()) {}

payments::~payments() { *stopped_ = true; }

void payments::configure(std::vector<std::unique_ptr<provider>> providers, std::string public_url,
                         int order_minutes) {
    auto s = std::make_shared<setup>();
    s->providers = std::move(providers);
    s->public_url = std::move(public_url);
    s->order_minutes = order_minutes;
    std::lock_guard lock(mu_);
    setup_ = std::move(s);
}

std::shared_ptr<const payments::setup> payments::current() const {
    std::lock_guard lock(mu_);
    return setup_;
}

std::vector<std::string> payments::channels() const {
    std::vector<std::string> out;
    for (const auto& p : current()->providers)
        for (auto& c : p->channels()) out.push_back(std::move(c));
    return out;
}

awaitable<std::vector<store::plan_row>> payments::plans(bool enabled_only) {
    auto all = co_await db_.read([](store::store& s) { return s.plans(); });
    if (enabled_only) std::erase_if(all, [](const store::plan_row& p) { return !p.enabled; });
    co_return all;
}

awaitable<std::optional<store::plan_row>> payments::plan(store::id_t id) {
    co_return co_await db_.read([id](store::store& s) { return s.plan(id); });
}

awaitable<store::plan_row> payments::set_plan(store::plan_row plan) {
    check_plan(plan);
    plan.id = co_await db_.run([plan](store::store& s) { return s.upsert_plan(plan, unix_now()); });
    co_return plan;
}

awaitable<std::optional<store::plan_row>> payments::remove_plan(store::id_t id) {
    co_return co_await db_.run([id](store::store& s) -> std::optional<store::plan_row> {
        auto before = s.plan(id);
        if (before) s.remove_plan(id);
        return before;
    });
}

awaitable<store::order_row> payments::create(store::id_t user_id, store::id_t plan_id, std::string channel,
                                             std::string client_ip) {
    auto s = current();
    auto* p = s->by_channel(channel);
    if (!p) throw app_error("pay_unavailable", "这个支付方式暂不可用 (channel '" + channel + "' is not offered)");
    auto plan = co_await db_.run([plan_id](store::store& st) { return st.plan(plan_id); });
    if (!plan || !plan->enabled) throw app_error("not_found", "no such plan");
    auto now = unix_now();
    store::order_row o;
    o.order_no = new_order_no(now);
    o.user_id = user_id;
    o.plan_id = plan->id;
    o.plan_name = plan->name;
    o.questions = plan->questions;
    o.days = plan->days;
    o.amount_cents = plan->price_cents;
    o.channel = channel;
    o.status = "pending";
    o.created_at = now;
    o.expires_at = now + s->order_minutes * 60;
    // Stored before the provider hears of it, so that no notification finds it missing.
    co_await db_.run([o](store::store& st) {
        if (st.pending_orders_of(o.user_id, o.created_at) >= max_pending_per_user)
            throw app_error("too_many_requests", "未支付的订单太多，请先完成或等待其关闭 (too many unpaid orders)");
        st.add_order(o);
        return true;
    });
    std::string failure;
    try {
        auto placed = co_await p->place(o, s->public_url + "/pay/" + p->name() + "/notify", client_ip);
        o.qr_url = placed.qr_url;
        o.pay_url = placed.pay_url;
        o.trade_no = placed.trade_no;
    } catch (const provider_error& e) {
        failure = e.what();
    }
    if (!failure.empty()) {
        spdlog::error("pay: {} could not place order {}: {}", p->name(), o.order_no, failure);
        co_await db_.run([no = o.order_no, now](store::store& st) { return st.close_order(no, now); });
        co_await record(o.order_no, "create", client_ip, "refused: provider", failure);
        throw app_error("pay_unavailable", "支付渠道暂时不可用，请稍后再试 (the payment provider did not answer)");
    }
    co_await db_.run([o](store::store& st) {
        st.set_order_links(o.order_no, o.qr_url, o.pay_url, o.trade_no);
        return true;
    });
    co_return o;
}

awaitable<order_view> payments::order(store::id_t user_id, std::string order_no) {
    auto o = co_await db_.read([order_no](store::store& st) { return st.order(order_no); });
    if (!o || o->user_id != user_id) throw app_error("not_found", "no such order");
    if (o->status == "pending") {
        bool due = false;
        {
            std::lock_guard lock(mu_);
            auto& last = last_asked_[order_no];
            auto now = std::chrono::steady_clock::now();
            if (now - last >= query_interval) last = now, due = true;
        }
        if (due) co_return co_await sync(order_no, "query");
    }
    co_return co_await view_of(order_no);
}

awaitable<order_view> payments::view_of(std::string order_no) {
    co_return co_await db_.read([order_no](store::store& st) {
        auto o = st.order(order_no);
        if (!o) throw app_error("not_found", "no such order");
        order_view v{*o, std::nullopt};
        if (o->status == "paid") v.balance = st.balance_of(o->user_id);
        return v;
    });
}

awaitable<store::page<store::order_row>> payments::orders(store::order_filter filter, store::page_cursor page) {
    co_return co_await db_.read([filter, page](store::store& st) {
        store::page<store::order_row> out;
        out.items = st.orders(filter, page, out.next);
        return out;
    });
}

awaitable<order_detail> payments::detail(std::string order_no) {
    co_return co_await db_.read([order_no](store::store& st) {
        auto o = st.order(order_no);
        if (!o) throw app_error("not_found", "no such order");
        return order_detail{*o, st.order_events(order_no)};
    });
}

awaitable<order_view> payments::sync(std::string order_no, std::string source) {
    auto o = co_await db_.read([order_no](store::store& st) { return st.order(order_no); });
    if (!o) throw app_error("not_found", "no such order");
    auto* p = current()->by_channel(o->channel);
    std::string failure;
    if (o->status == "pending" && p) {
        try {
            auto t = co_await p->query(*o);
            if (t.state == trade_state::paid) co_return co_await settle(*o, t, source, "");
            auto now = unix_now();
            if (now >= o->expires_at || t.state == trade_state::closed) {
                // Closed at the provider first: nobody can pay it after we stop waiting.
                if (t.state != trade_state::closed) co_await p->close(*o);
                auto t2 = co_await p->query(*o);  // paid in the last moment after all?
                if (t2.state == trade_state::paid) co_return co_await settle(*o, t2, source, "");
                if (co_await db_.run([no = o->order_no, now](store::store& st) { return st.close_order(no, now); }))
                    co_await record(o->order_no, source, "", "closed", "expired");
            }
        } catch (const provider_error& e) {
            failure = e.what();
        }
    }
    if (!failure.empty()) {
        spdlog::warn("pay: {} could not be asked about order {}: {}", p->name(), o->order_no, failure);
        // An operator asking is told, and the order keeps a trace; the minute job only logs.
        if (source == "admin") {
            co_await record(o->order_no, source, "", "failed: provider", failure);
            throw app_error("pay_unavailable", "支付渠道没有回答 (the channel could not be asked: " + failure + ")");
        }
    }
    auto v = co_await view_of(order_no);
    if (v.order.status != "pending") {
        std::lock_guard lock(mu_);
        last_asked_.erase(order_no);
    }
    co_return v;
}

awaitable<order_view> payments::settle(const store::order_row& o, const trade& t, std::string source,
                                       std::string client_ip) {
    if (t.amount_cents != o.amount_cents) {
        spdlog::warn("pay: order {} reported paid {} fen by {}, but it is for {} fen; not credited", o.order_no,
                     t.amount_cents, source, o.amount_cents);
        co_await record(o.order_no, source, client_ip, "refused: amount",
                        "paid " + yuan(t.amount_cents) + ", order " + yuan(o.amount_cents));
        co_return order_view{o, std::nullopt};
    }
    auto percent = site_.get_int("referral.paid_percent");
    // The credit, what said so, and the view of the result: one job on the database thread.
    auto [view, credited] = co_await db_.run([&o, &t, &source, &client_ip, percent](store::store& st) {
        auto now = unix_now();
        auto paid = billing::pay_order(st, o.order_no, t.trade_no, t.amount_cents, now, percent);
        st.add_order_event({0, o.order_no, now, source, client_ip, paid ? "accepted" : "duplicate",
                            "trade " + t.trade_no});
        order_view v{st.order(o.order_no).value_or(o), paid ? paid->after : st.balance_of(o.user_id)};
        return std::pair{v, paid.has_value()};
    });
    if (credited) spdlog::info("pay: order {} paid ({} fen, {}), credited", o.order_no, o.amount_cents, source);
    co_return view;
}

awaitable<net::response> payments::notify(std::string provider_name, net::request request) {
    auto s = current();
    auto* p = s->by_name(provider_name);
    if (!p) co_return net::json_response(404, R"({"error":{"reason":"not_found","message":"no such channel"}})");
    auto checked = p->check(request);
    if (!checked.ok) {
        spdlog::warn("pay: {} notification from {} refused: {}", provider_name, request.peer, checked.refused);
        co_return p->refused();
    }
    const auto& n = *checked.ok;
    auto o = co_await db_.read([no = n.order_no](store::store& st) { return st.order(no); });
    if (!o || s->by_channel(o->channel) != p) {
        spdlog::warn("pay: {} notification from {} refused: unknown order", provider_name, request.peer);
        co_await record(n.order_no, "notify", request.peer, "refused: unknown order", "");
        co_return p->refused();
    }
    if (!n.paid) {
        co_await record(o->order_no, "notify", request.peer, "ignored", "not a payment");
        co_return p->accepted();
    }
    auto v = co_await settle(*o, trade{trade_state::paid, n.trade_no, n.amount_cents}, "notify", request.peer);
    co_return v.order.status == "paid" ? p->accepted() : p->refused();
}

awaitable<void> payments::record(std::string order_no, std::string source, std::string client_ip,
                                 std::string verdict, std::string detail) {
    store::order_event_row e{0, std::move(order_no), unix_now(), std::move(source), std::move(client_ip),
                             std::move(verdict), std::string(utf8_prefix(detail, 500))};
    co_await db_.run([e](store::store& st) {
        st.add_order_event(e);
        return true;
    });
}

void payments::start() {
    timer_ = std::make_shared<asio::steady_timer>(ex_);
    asio::co_spawn(ex_, minute_loop(), asio::detached);
}

void payments::stop() {
    *stopped_ = true;
    if (timer_) asio::post(ex_, [timer = timer_] { timer->cancel(); });
}

awaitable<void> payments::minute_loop() {
    auto stopped = stopped_;
    auto timer = timer_;
    // The first pass soon after start: orders paid while chatd was down are credited then.
    auto wait = std::chrono::seconds(2);
    while (!*stopped) {
        timer->expires_after(wait);
        wait = std::chrono::seconds(60);
        boost::system::error_code ec;
        co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (*stopped) break;
        // One instance of those sharing a database syncs: the others skip their minute.
        if (!co_await db_.leads(store::background_job::order_sync)) continue;
        try {
            auto pending = co_await db_.read([](store::store& st) { return st.pending_orders(200); });
            for (const auto& o : pending) co_await sync(o.order_no, "sync");
            spdlog::debug("pay: the minute job asked about {} pending order(s)", pending.size());
        } catch (const std::exception& e) {
            spdlog::error("pay: syncing pending orders failed: {}", e.what());
        }
    }
}

}  // namespace chatd::pay
