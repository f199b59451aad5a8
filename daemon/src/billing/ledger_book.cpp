#include "billing/ledger_book.hpp"

#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>

#include "util/unix_time.hpp"

namespace chatd::billing {

using boost::asio::awaitable;

ledger_book::ledger_book(store::database& db, task_counter& tasks) : db_(db), tasks_(tasks) {}

awaitable<store::page<store::ledger_row>> ledger_book::rows(store::id_t user_id, store::page_cursor page) {
    co_return co_await db_.read([=](store::store& st) {
        store::page<store::ledger_row> out;
        out.items = st.ledger(user_id, page, out.next);
        return out;
    });
}

awaitable<store::store::invite_stats> ledger_book::invites(store::id_t user_id) {
    co_return co_await db_.read([user_id](store::store& st) { return st.invites(user_id); });
}

awaitable<ledger_book::consistency> ledger_book::consistency_check(bool big, std::int64_t now) {
    bool now_please = false, in_background = false;
    consistency last;
    {
        std::lock_guard lock(check_->mu);
        last = check_->last;
        bool stale = now - last.at > 600;
        now_please = !check_->running &&
                     (last.at == 0 ? !big : check_->took < std::chrono::milliseconds(100));
        in_background = !now_please && stale && !check_->running;
        if (now_please || in_background) check_->running = true;
    }
    if (now_please) co_return co_await check_now();
    if (in_background)
        tasks_.spawn(co_await boost::asio::this_coro::executor,
                     [this]() -> awaitable<void> { co_await check_now(); }, "ledger check");
    co_return last;
}

awaitable<ledger_book::consistency> ledger_book::check_now() {
    auto state = check_;
    auto started = std::chrono::steady_clock::now();
    std::vector<store::id_t> mismatches;
    try {
        mismatches = co_await db_.read([](store::store& st) { return st.ledger_mismatches(); });
    } catch (...) {
        std::lock_guard lock(state->mu);
        state->running = false;
        throw;
    }
    std::lock_guard lock(state->mu);
    state->took = std::chrono::steady_clock::now() - started;
    state->last = {mismatches.empty(), unix_now()};
    state->running = false;
    if (!mismatches.empty())
        spdlog::error("ledger check: {} user(s) whose balance differs from their ledger", mismatches.size());
    co_return state->last;
}

}  // namespace chatd::billing
