#include "billing/card_service.hpp"

#include "billing/cards.hpp"
#include "billing/credits.hpp"

namespace chatd::billing {

using boost::asio::awaitable;

awaitable<std::vector<std::string>> card_service::generate(std::string batch, std::int64_t count,
                                                           std::int64_t questions, std::int64_t days,
                                                           std::optional<std::int64_t> redeem_before,
                                                           std::int64_t now) {
    co_return co_await db_.run([=](store::store& st) {
        return st.generate_cards(batch, count, questions, days, redeem_before, now, new_card_code);
    });
}

awaitable<store::page<store::card_row>> card_service::list(std::string batch, std::string status, store::page_cursor page,
                                        std::int64_t now) {
    co_return co_await db_.read([=](store::store& st) {
        store::page<store::card_row> out;
        out.items = st.cards(batch, status, page, now, out.next);
        return out;
    });
}

awaitable<std::vector<store::batch_row>> card_service::batches(std::int64_t now) {
    co_return co_await db_.read([now](store::store& st) { return st.card_batches(now); });
}

awaitable<std::int64_t> card_service::revoke(std::vector<std::string> codes, std::string batch, std::int64_t now) {
    co_return co_await db_.run([=](store::store& st) { return st.revoke_cards(codes, batch, now); });
}

awaitable<balance> card_service::redeem(store::id_t user_id, std::string code, std::int64_t now,
                                        std::int64_t paid_percent) {
    co_return co_await db_.run([=](store::store& st) { return redeem_card(st, user_id, code, now, paid_percent); });
}

awaitable<std::pair<balance, balance>> card_service::grant(store::id_t user_id, std::int64_t questions,
                                                           std::optional<std::int64_t> days, std::string bucket,
                                                           std::string actor, std::int64_t now) {
    co_return co_await db_.run([=](store::store& st) {
        auto before = st.balance_of(user_id);
        return std::pair{before, billing::grant(st, user_id, questions, days, bucket, actor, now)};
    });
}

}  // namespace chatd::billing
