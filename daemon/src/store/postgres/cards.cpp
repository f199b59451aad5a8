// Recharge cards: batches and revocation (the exactly-once claim of a card is the ledger
// port's, in accounts.cpp).
#include <algorithm>
#include <cstddef>
#include <unordered_set>

#include "store/paging.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/postgres/values.hpp"
#include "util/app_error.hpp"

namespace chatd::store {

using namespace pg;

namespace {

// Codes per INSERT: big batches (up to 100,000 cards) go in a few statements of modest size.
constexpr std::size_t codes_per_statement = 5000;

}  // namespace

std::vector<std::string> postgres_store::generate_cards(const std::string& batch, std::int64_t count,
                                                        std::int64_t questions, std::int64_t days,
                                                        std::optional<std::int64_t> redeem_before,
                                                        std::int64_t now,
                                                        const std::function<std::string()>& new_code) {
    transaction t(db_);
    // ON CONFLICT rather than a unique violation: a failed statement would abort the transaction.
    auto b = db_.exec("INSERT INTO card_batches (name, questions, days, redeem_before, created_at) "
                      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
                      {p(batch), p(questions), p(days), p(redeem_before), p(now)});
    if (b.affected() == 0) throw app_error("invalid_params", "a batch named '" + batch + "' already exists");
    std::vector<std::string> codes;
    codes.reserve(static_cast<std::size_t>(count));
    while (static_cast<std::int64_t>(codes.size()) < count) {
        // Inserting in key order keeps the B-tree writes sequential; a code drawn twice is
        // inserted once, the other drawn again below as in any clash.
        std::vector<std::string> draw(static_cast<std::size_t>(count) - codes.size());
        for (auto& c : draw) c = new_code();
        std::sort(draw.begin(), draw.end());
        draw.erase(std::unique(draw.begin(), draw.end()), draw.end());
        std::unordered_set<std::string> inserted;
        for (std::size_t from = 0; from < draw.size(); from += codes_per_statement) {
            auto first = draw.begin() + static_cast<std::ptrdiff_t>(from);
            auto last = draw.begin() + static_cast<std::ptrdiff_t>(std::min(draw.size(), from + codes_per_statement));
            // 80 random bits make a clash all but impossible; a clashing code (here or in another
            // process's batch) is skipped, not an error, and drawn again.
            auto r = db_.exec(
                "INSERT INTO cards (code, batch, questions, days, redeem_before, created_at) "
                "SELECT c, $2::text, $3::bigint, $4::bigint, $5::bigint, $6::bigint "
                "FROM unnest($1::text[]) WITH ORDINALITY AS u (c, n) ORDER BY n "
                "ON CONFLICT (code) DO NOTHING RETURNING code",
                {text_array(first, last), p(batch), p(questions), p(days), p(redeem_before), p(now)});
            for (int row = 0; row < r.rows(); ++row) inserted.insert(str(r, row, 0));
        }
        // In insertion order: sorted within each draw.
        for (auto& code : draw)
            if (inserted.count(code)) codes.push_back(std::move(code));
    }
    t.commit();
    return codes;
}

std::vector<card_row> postgres_store::cards(const std::string& batch, const std::string& status,
                                            const page_cursor& page, std::int64_t now,
                                            std::optional<std::string>& next) {
    // Keyset pagination by code. "expired" is unused past redeem_before. Codes are normalised
    // (digits and capitals, one length), which collations order as bytes: the key's index serves.
    std::string sql =
        "SELECT code, batch, questions, days, redeem_before, status, redeemed_by, redeemed_at, created_at "
        "FROM cards WHERE code > $1";
    std::vector<param> params{page.after.value_or("")};
    auto next_param = [&](param v) {
        params.push_back(std::move(v));
        return "$" + std::to_string(params.size());
    };
    if (!batch.empty()) sql += " AND batch = " + next_param(batch);
    if (status == "unused") {
        sql += " AND status = 'unused' AND (redeem_before IS NULL OR redeem_before > " + next_param(p(now)) + ")";
    } else if (status == "expired") {
        sql += " AND status = 'unused' AND redeem_before <= " + next_param(p(now));
    } else if (status == "used" || status == "revoked") {
        sql += " AND status = " + next_param(status);
    } else if (!status.empty()) {
        throw app_error("invalid_params", "status: unused, used, revoked or expired");
    }
    sql += " ORDER BY code LIMIT " + next_param(p(page.limit + 1));
    auto r = db_.exec(sql, params);
    std::vector<card_row> out;
    for (int row = 0; row < r.rows(); ++row) {
        card_row c;
        c.code = str(r, row, 0);
        c.batch = str(r, row, 1);
        c.questions = i64(r, row, 2);
        c.days = i64(r, row, 3);
        c.redeem_before = opt_i64(r, row, 4);
        c.status = str(r, row, 5);
        if (c.status == "unused" && c.redeem_before && *c.redeem_before <= now) c.status = "expired";
        c.redeemed_by = opt_i64(r, row, 6);
        c.redeemed_at = opt_i64(r, row, 7);
        c.created_at = i64(r, row, 8);
        out.push_back(std::move(c));
    }
    finish_page(out, page.limit, next, [](const auto& c) { return c.code; });
    return out;
}

std::vector<batch_row> postgres_store::card_batches(std::int64_t now) {
    // Counted from the (batch, status) index alone; a batch's cards share its redeem-before
    // date, so its unused cards are all expired or none is. Names order as bytes, as in SQLite.
    auto r = db_.exec(
        "SELECT b.name, b.questions, b.days, b.redeem_before, b.created_at, c.status, count(c.code) "
        "FROM card_batches b LEFT JOIN cards c ON c.batch = b.name GROUP BY b.name, c.status "
        "ORDER BY b.created_at DESC, b.name COLLATE \"C\"");
    std::vector<batch_row> out;
    for (int row = 0; row < r.rows(); ++row) {
        auto name = str(r, row, 0);
        if (out.empty() || out.back().name != name) {
            batch_row b;
            b.name = name;
            b.questions = i64(r, row, 1);
            b.days = i64(r, row, 2);
            b.redeem_before = opt_i64(r, row, 3);
            b.created_at = i64(r, row, 4);
            out.push_back(std::move(b));
        }
        auto& b = out.back();
        auto status = str(r, row, 5);
        auto n = i64(r, row, 6);
        b.count += n;
        if (status == "used") b.used += n;
        else if (status == "revoked") b.revoked += n;
        else if (status == "unused") (b.redeem_before && *b.redeem_before <= now ? b.expired : b.unused) += n;
    }
    return out;
}

std::int64_t postgres_store::revoke_cards(const std::vector<std::string>& codes, const std::string& batch,
                                          std::int64_t) {
    transaction t(db_);
    std::int64_t n = 0;
    // Only unused cards: a card another process claims meanwhile stays used, and is not counted.
    if (!batch.empty())
        n += db_.exec("UPDATE cards SET status = 'revoked' WHERE batch = $1 AND status = 'unused'", {p(batch)})
                 .affected();
    if (!codes.empty())
        n += db_.exec("UPDATE cards SET status = 'revoked' WHERE code = ANY ($1::text[]) AND status = 'unused'",
                      {text_array(codes.begin(), codes.end())})
                 .affected();
    t.commit();
    return n;
}

}  // namespace chatd::store
