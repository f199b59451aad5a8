// Recharge cards: batches, the exactly-once claim of a card, and revocation.
#include "store/sqlite/sqlite_store.hpp"

#include <algorithm>

namespace chatd::store {

std::vector<std::string> sqlite_store::generate_cards(const std::string& batch, std::int64_t count,
                                                      std::int64_t questions, std::int64_t days,
                                                      std::optional<std::int64_t> redeem_before, std::int64_t now,
                                                      const std::function<std::string()>& new_code) {
    savepoint t(db_);
    {
        stmt b = prepare("INSERT INTO card_batches (name, questions, days, redeem_before, created_at) "
                         "VALUES (?,?,?,?,?) ON CONFLICT(name) DO NOTHING");
        b.bind(1, batch);
        b.bind(2, questions);
        b.bind(3, days);
        bind_opt(b, 4, redeem_before);
        b.bind(5, now);
        if (b.exec() == 0) throw app_error("invalid_params", "a batch named '" + batch + "' already exists");
    }
    stmt st = prepare("INSERT INTO cards (code, batch, questions, days, redeem_before, created_at) "
                      "VALUES (?,?,?,?,?,?) ON CONFLICT(code) DO NOTHING");
    std::vector<std::string> codes;
    codes.reserve(static_cast<std::size_t>(count));
    while (static_cast<std::int64_t>(codes.size()) < count) {
        // Inserting in key order keeps the B-tree writes sequential: several times faster
        // than random order for big batches.
        std::vector<std::string> draw(static_cast<std::size_t>(count) - codes.size());
        for (auto& c : draw) c = new_code();
        std::sort(draw.begin(), draw.end());
        for (auto& code : draw) {
            st.bind(1, code);
            st.bind(2, batch);
            st.bind(3, questions);
            st.bind(4, days);
            bind_opt(st, 5, redeem_before);
            st.bind(6, now);
            // 80 random bits make a clash all but impossible; a clash is drawn again.
            if (st.exec() == 1) codes.push_back(std::move(code));
            st.reset();
        }
    }
    t.commit();
    return codes;
}

card_claim sqlite_store::claim_card(const std::string& code, id_t user_id, std::int64_t now) {
    stmt c = prepare("SELECT status, redeem_before, questions, days FROM cards WHERE code = ?");
    c.bind(1, code);
    if (!c.executeStep()) throw app_error("card_invalid", "充值卡无效 (no such card)");
    std::string status = c.getColumn(0).getString();
    auto redeem_before = opt_i64(c.getColumn(1));
    card_claim card{c.getColumn(2).getInt64(), c.getColumn(3).getInt64()};
    if (status == "used") throw app_error("card_used", "充值卡已被使用 (this card was already redeemed)");
    if (status == "revoked") throw app_error("card_revoked", "充值卡已作废 (this card was revoked)");
    if (redeem_before && *redeem_before <= now) throw app_error("card_expired", "充值卡已过期 (this card has expired)");
    c.reset();
    // The claim itself: only one transaction can move the card from unused to used.
    stmt claim = prepare("UPDATE cards SET status = 'used', redeemed_by = ?, redeemed_at = ? "
                         "WHERE code = ? AND status = 'unused'");
    claim.bind(1, user_id);
    claim.bind(2, now);
    claim.bind(3, code);
    if (claim.exec() != 1) throw app_error("card_used", "充值卡已被使用 (this card was already redeemed)");
    return card;
}

void sqlite_store::count_sale(std::int64_t at, std::int64_t questions) {
    count_day(at, day_counter::redemptions, 1);
    count_day(at, day_counter::credits_sold, questions);
}

std::vector<card_row> sqlite_store::cards(const std::string& batch, const std::string& status, const page_cursor& page,
                                          std::int64_t now, std::optional<std::string>& next) {
    // Keyset pagination by code. "expired" is unused past redeem_before.
    std::string sql =
        "SELECT code, batch, questions, days, redeem_before, status, redeemed_by, redeemed_at, created_at "
        "FROM cards WHERE code > ?";
    if (!batch.empty()) sql += " AND batch = ?";
    if (status == "unused") sql += " AND status = 'unused' AND (redeem_before IS NULL OR redeem_before > ?)";
    else if (status == "expired") sql += " AND status = 'unused' AND redeem_before <= ?";
    else if (status == "used" || status == "revoked") sql += " AND status = ?";
    else if (!status.empty()) throw app_error("invalid_params", "status: unused, used, revoked or expired");
    sql += " ORDER BY code LIMIT ?";
    stmt st = prepare(sql);
    int i = 1;
    st.bind(i++, page.after.value_or(""));
    if (!batch.empty()) st.bind(i++, batch);
    if (status == "unused" || status == "expired") st.bind(i++, now);
    else if (!status.empty()) st.bind(i++, status);
    st.bind(i++, page.limit + 1);
    std::vector<card_row> out;
    while (st.executeStep()) {
        card_row c;
        c.code = st.getColumn(0).getString();
        c.batch = st.getColumn(1).getString();
        c.questions = st.getColumn(2).getInt64();
        c.days = st.getColumn(3).getInt64();
        c.redeem_before = opt_i64(st.getColumn(4));
        c.status = st.getColumn(5).getString();
        if (c.status == "unused" && c.redeem_before && *c.redeem_before <= now) c.status = "expired";
        c.redeemed_by = opt_i64(st.getColumn(6));
        c.redeemed_at = opt_i64(st.getColumn(7));
        c.created_at = st.getColumn(8).getInt64();
        out.push_back(std::move(c));
    }
    finish_page(out, page.limit, next, [](const auto& r) { return r.code; });
    return out;
}

std::vector<batch_row> sqlite_store::card_batches(std::int64_t now) {
    // Counted from the (batch, status) index alone; a batch's cards share its redeem-before
    // date, so its unused cards are all expired or none is.
    stmt st = prepare(
        "SELECT b.name, b.questions, b.days, b.redeem_before, b.created_at, c.status, count(c.code) "
        "FROM card_batches b LEFT JOIN cards c ON c.batch = b.name GROUP BY b.name, c.status "
        "ORDER BY b.created_at DESC, b.name");
    std::vector<batch_row> out;
    while (st.executeStep()) {
        auto name = st.getColumn(0).getString();
        if (out.empty() || out.back().name != name) {
            batch_row b;
            b.name = name;
            b.questions = st.getColumn(1).getInt64();
            b.days = st.getColumn(2).getInt64();
            b.redeem_before = opt_i64(st.getColumn(3));
            b.created_at = st.getColumn(4).getInt64();
            out.push_back(std::move(b));
        }
        auto& b = out.back();
        auto status = text(st.getColumn(5));
        auto n = st.getColumn(6).getInt64();
        b.count += n;
        if (status == "used") b.used += n;
        else if (status == "revoked") b.revoked += n;
        else if (status == "unused") (b.redeem_before && *b.redeem_before <= now ? b.expired : b.unused) += n;
    }
    return out;
}

std::int64_t sqlite_store::revoke_cards(const std::vector<std::string>& codes, const std::string& batch, std::int64_t) {
    savepoint t(db_);
    std::int64_t n = 0;
    if (!batch.empty()) {
        stmt st = prepare("UPDATE cards SET status = 'revoked' WHERE batch = ? AND status = 'unused'");
        st.bind(1, batch);
        n += st.exec();
    }
    stmt one = prepare("UPDATE cards SET status = 'revoked' WHERE code = ? AND status = 'unused'");
    for (const auto& code : codes) {
        one.bind(1, code);
        n += one.exec();
        one.reset();
    }
    t.commit();
    return n;
}

}  // namespace chatd::store
