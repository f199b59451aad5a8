// Plans, orders and their events (store/order_book.hpp); the order claim of the ledger port is
// in accounts.cpp.
#include <cstdlib>

#include "store/paging.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/postgres/values.hpp"
#include "util/app_error.hpp"

namespace chatd::store {

using namespace pg;

namespace {

constexpr const char* plan_columns = "id, name, price_cents, questions, days, enabled, sort";
constexpr const char* order_columns =
    "order_no, user_id, plan_id, plan_name, questions, days, amount_cents, channel, status, trade_no, qr_url, "
    "pay_url, created_at, expires_at, paid_at, closed_at";

order_row read_order(const result& r, int row) {
    order_row o;
    o.order_no = str(r, row, 0);
    o.user_id = i64(r, row, 1);
    o.plan_id = opt_i64(r, row, 2);
    o.plan_name = str(r, row, 3);
    o.questions = i64(r, row, 4);
    o.days = i64(r, row, 5);
    o.amount_cents = i64(r, row, 6);
    o.channel = str(r, row, 7);
    o.status = str(r, row, 8);
    o.trade_no = str(r, row, 9);
    o.qr_url = str(r, row, 10);
    o.pay_url = str(r, row, 11);
    o.created_at = i64(r, row, 12);
    o.expires_at = i64(r, row, 13);
    o.paid_at = opt_i64(r, row, 14);
    o.closed_at = opt_i64(r, row, 15);
    return o;
}

std::vector<order_row> read_orders(const result& r) {
    std::vector<order_row> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row) out.push_back(read_order(r, row));
    return out;
}

plan_row read_plan(const result& r, int row) {
    return {i64(r, row, 0), str(r, row, 1), i64(r, row, 2), i64(r, row, 3),
            i64(r, row, 4), flag(r, row, 5), i64(r, row, 6)};
}

}  // namespace

std::vector<plan_row> postgres_store::plans() {
    auto r = db_.exec(std::string("SELECT ") + plan_columns + " FROM plans ORDER BY sort, id");
    std::vector<plan_row> out;
    for (int row = 0; row < r.rows(); ++row) out.push_back(read_plan(r, row));
    return out;
}

std::optional<plan_row> postgres_store::plan(id_t id) {
    auto r = db_.exec(std::string("SELECT ") + plan_columns + " FROM plans WHERE id = $1", {p(id)});
    if (r.rows() == 0) return std::nullopt;
    return read_plan(r, 0);
}

id_t postgres_store::upsert_plan(const plan_row& pl, std::int64_t now) {
    if (pl.id) {
        auto r = db_.exec(
            "UPDATE plans SET name = $1, price_cents = $2, questions = $3, days = $4, enabled = $5, sort = $6 "
            "WHERE id = $7",
            {p(pl.name), p(pl.price_cents), p(pl.questions), p(pl.days), p(pl.enabled), p(pl.sort), p(pl.id)});
        if (r.affected() == 0) throw app_error("not_found", "no such plan");
        return pl.id;
    }
    auto r = db_.exec(
        "INSERT INTO plans (name, price_cents, questions, days, enabled, sort, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        {p(pl.name), p(pl.price_cents), p(pl.questions), p(pl.days), p(pl.enabled), p(pl.sort), p(now)});
    return i64(r, 0, 0);
}

bool postgres_store::remove_plan(id_t id) {
    return db_.exec("DELETE FROM plans WHERE id = $1", {p(id)}).affected() > 0;
}

void postgres_store::add_order(const order_row& o) {
    db_.exec("INSERT INTO orders (order_no, user_id, plan_id, plan_name, questions, days, amount_cents, channel, "
             "status, trade_no, qr_url, pay_url, created_at, expires_at) "
             "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11, $12, $13)",
             {p(o.order_no), p(o.user_id), p(o.plan_id), p(o.plan_name), p(o.questions), p(o.days),
              p(o.amount_cents), p(o.channel), text_or_null(o.trade_no), text_or_null(o.qr_url),
              text_or_null(o.pay_url), p(o.created_at), p(o.expires_at)});
}

void postgres_store::set_order_links(const std::string& order_no, const std::string& qr_url,
                                     const std::string& pay_url, const std::string& trade_no) {
    db_.exec("UPDATE orders SET qr_url = $1, pay_url = $2, trade_no = coalesce(trade_no, $3) WHERE order_no = $4",
             {text_or_null(qr_url), text_or_null(pay_url), text_or_null(trade_no), p(order_no)});
}

std::optional<order_row> postgres_store::order(const std::string& order_no) {
    auto r = db_.exec(std::string("SELECT ") + order_columns + " FROM orders WHERE order_no = $1", {p(order_no)});
    if (r.rows() == 0) return std::nullopt;
    return read_order(r, 0);
}

std::vector<order_row> postgres_store::orders(const order_filter& filter, const page_cursor& page,
                                              std::optional<std::string>& next) {
    // Keyset pages over (created_at, order_no), newest first; order numbers compare as bytes,
    // as in SQLite (only a tie-break within a second: no index is lost).
    std::string sql = std::string("SELECT ") + order_columns + " FROM orders WHERE true";
    std::vector<param> params;
    auto next_param = [&](param v) {
        params.push_back(std::move(v));
        return "$" + std::to_string(params.size());
    };
    if (page.after) {
        auto colon = page.after->find(':');
        if (colon == std::string::npos) throw app_error("invalid_params", "bad cursor");
        auto at = next_param(p(static_cast<std::int64_t>(std::strtoll(page.after->substr(0, colon).c_str(),
                                                                      nullptr, 10))));
        auto no = next_param(page.after->substr(colon + 1));
        sql += " AND (created_at < " + at + " OR (created_at = " + at + " AND order_no COLLATE \"C\" < " + no + "))";
    }
    if (!filter.status.empty()) sql += " AND status = " + next_param(filter.status);
    if (filter.user_id) sql += " AND user_id = " + next_param(p(filter.user_id));
    if (!filter.query.empty()) {
        // ILIKE: SQLite's LIKE ignores case.
        auto pattern = next_param(like_pattern(filter.query));
        sql += " AND (order_no ILIKE " + pattern + " ESCAPE '\\' OR trade_no ILIKE " + pattern +
               " ESCAPE '\\' OR plan_name ILIKE " + pattern + " ESCAPE '\\')";
    }
    sql += " ORDER BY created_at DESC, order_no COLLATE \"C\" DESC LIMIT " + next_param(p(page.limit + 1));
    auto out = read_orders(db_.exec(sql, params));
    finish_page(out, page.limit, next,
                [](const order_row& o) { return std::to_string(o.created_at) + ":" + o.order_no; });
    return out;
}

std::int64_t postgres_store::pending_orders_of(id_t user_id, std::int64_t now) {
    auto r = db_.exec("SELECT count(*) FROM orders WHERE user_id = $1 AND status = 'pending' AND expires_at > $2",
                      {p(user_id), p(now)});
    return i64(r, 0, 0);
}

std::vector<order_row> postgres_store::pending_orders(int limit) {
    return read_orders(db_.exec(std::string("SELECT ") + order_columns +
                                    " FROM orders WHERE status = 'pending' ORDER BY expires_at LIMIT $1",
                                {p(limit)}));
}

bool postgres_store::close_order(const std::string& order_no, std::int64_t now) {
    // The status in the WHERE clause: of a close and a payment racing from two processes, one wins.
    auto r = db_.exec("UPDATE orders SET status = 'closed', closed_at = $1 WHERE order_no = $2 AND status = 'pending'",
                      {p(now), p(order_no)});
    return r.affected() == 1;
}

void postgres_store::add_order_event(const order_event_row& e) {
    db_.exec("INSERT INTO order_events (order_no, at, source, client_ip, verdict, detail) "
             "VALUES ($1, $2, $3, $4, $5, $6)",
             {p(e.order_no), p(e.at), p(e.source), p(e.client_ip), p(e.verdict), p(e.detail)});
}

std::vector<order_event_row> postgres_store::order_events(const std::string& order_no) {
    auto r = db_.exec("SELECT id, order_no, at, source, client_ip, verdict, detail FROM order_events "
                      "WHERE order_no = $1 ORDER BY id",
                      {p(order_no)});
    std::vector<order_event_row> out;
    for (int row = 0; row < r.rows(); ++row)
        out.push_back({i64(r, row, 0), str(r, row, 1), i64(r, row, 2), str(r, row, 3), str(r, row, 4),
                       str(r, row, 5), str(r, row, 6)});
    return out;
}

}  // namespace chatd::store
