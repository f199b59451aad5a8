// Plans, orders and their events (store/order_book.hpp), and the order claim of the ledger port.
#include <cstdlib>

#include "store/sqlite/sqlite_store.hpp"

namespace chatd::store {

namespace {

constexpr const char* plan_columns = "id, name, price_cents, questions, days, enabled, sort";
constexpr const char* order_columns =
    "order_no, user_id, plan_id, plan_name, questions, days, amount_cents, channel, status, trade_no, qr_url, "
    "pay_url, created_at, expires_at, paid_at, closed_at";

order_row read_order(stmt& st) {
    order_row o;
    o.order_no = st.getColumn(0).getString();
    o.user_id = st.getColumn(1).getInt64();
    o.plan_id = opt_i64(st.getColumn(2));
    o.plan_name = st.getColumn(3).getString();
    o.questions = st.getColumn(4).getInt64();
    o.days = st.getColumn(5).getInt64();
    o.amount_cents = st.getColumn(6).getInt64();
    o.channel = st.getColumn(7).getString();
    o.status = st.getColumn(8).getString();
    o.trade_no = text(st.getColumn(9));
    o.qr_url = text(st.getColumn(10));
    o.pay_url = text(st.getColumn(11));
    o.created_at = st.getColumn(12).getInt64();
    o.expires_at = st.getColumn(13).getInt64();
    o.paid_at = opt_i64(st.getColumn(14));
    o.closed_at = opt_i64(st.getColumn(15));
    return o;
}

plan_row read_plan(stmt& st) {
    return {st.getColumn(0).getInt64(), st.getColumn(1).getString(), st.getColumn(2).getInt64(),
            st.getColumn(3).getInt64(), st.getColumn(4).getInt64(), st.getColumn(5).getInt() != 0,
            st.getColumn(6).getInt64()};
}

}  // namespace

std::vector<plan_row> sqlite_store::plans() {
    stmt st = prepare(std::string("SELECT ") + plan_columns + " FROM plans ORDER BY sort, id");
    std::vector<plan_row> out;
    while (st.executeStep()) out.push_back(read_plan(st));
    return out;
}

std::optional<plan_row> sqlite_store::plan(id_t id) {
    stmt st = prepare(std::string("SELECT ") + plan_columns + " FROM plans WHERE id = ?");
    st.bind(1, id);
    if (!st.executeStep()) return std::nullopt;
    return read_plan(st);
}

id_t sqlite_store::upsert_plan(const plan_row& p, std::int64_t now) {
    if (p.id) {
        stmt st = prepare("UPDATE plans SET name=?, price_cents=?, questions=?, days=?, enabled=?, sort=? WHERE id=?");
        st.bind(1, p.name);
        st.bind(2, p.price_cents);
        st.bind(3, p.questions);
        st.bind(4, p.days);
        st.bind(5, p.enabled ? 1 : 0);
        st.bind(6, p.sort);
        st.bind(7, p.id);
        if (st.exec() == 0) throw app_error("not_found", "no such plan");
        return p.id;
    }
    stmt st = prepare(
        "INSERT INTO plans (name, price_cents, questions, days, enabled, sort, created_at) VALUES (?,?,?,?,?,?,?)");
    st.bind(1, p.name);
    st.bind(2, p.price_cents);
    st.bind(3, p.questions);
    st.bind(4, p.days);
    st.bind(5, p.enabled ? 1 : 0);
    st.bind(6, p.sort);
    st.bind(7, now);
    st.exec();
    return db_.getLastInsertRowid();
}

bool sqlite_store::remove_plan(id_t id) {
    stmt st = prepare("DELETE FROM plans WHERE id = ?");
    st.bind(1, id);
    return st.exec() > 0;
}

void sqlite_store::add_order(const order_row& o) {
    stmt st = prepare(
        "INSERT INTO orders (order_no, user_id, plan_id, plan_name, questions, days, amount_cents, channel, "
        "status, trade_no, qr_url, pay_url, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,'pending',?,?,?,?,?)");
    st.bind(1, o.order_no);
    st.bind(2, o.user_id);
    bind_opt(st, 3, o.plan_id);
    st.bind(4, o.plan_name);
    st.bind(5, o.questions);
    st.bind(6, o.days);
    st.bind(7, o.amount_cents);
    st.bind(8, o.channel);
    bind_text_or_null(st, 9, o.trade_no);
    bind_text_or_null(st, 10, o.qr_url);
    bind_text_or_null(st, 11, o.pay_url);
    st.bind(12, o.created_at);
    st.bind(13, o.expires_at);
    st.exec();
}

void sqlite_store::set_order_links(const std::string& order_no, const std::string& qr_url, const std::string& pay_url,
                                   const std::string& trade_no) {
    stmt st = prepare("UPDATE orders SET qr_url = ?, pay_url = ?, trade_no = coalesce(trade_no, ?) WHERE order_no = ?");
    bind_text_or_null(st, 1, qr_url);
    bind_text_or_null(st, 2, pay_url);
    bind_text_or_null(st, 3, trade_no);
    st.bind(4, order_no);
    st.exec();
}

std::optional<order_row> sqlite_store::order(const std::string& order_no) {
    stmt st = prepare(std::string("SELECT ") + order_columns + " FROM orders WHERE order_no = ?");
    st.bind(1, order_no);
    if (!st.executeStep()) return std::nullopt;
    return read_order(st);
}

std::vector<order_row> sqlite_store::orders(const order_filter& filter, const page_cursor& page,
                                            std::optional<std::string>& next) {
    // Keyset pages over (created_at, order_no), newest first.
    std::int64_t before_at = INT64_MAX;
    std::string before_no;
    if (page.after) {
        auto colon = page.after->find(':');
        if (colon == std::string::npos) throw app_error("invalid_params", "bad cursor");
        before_at = std::strtoll(page.after->substr(0, colon).c_str(), nullptr, 10);
        before_no = page.after->substr(colon + 1);
    }
    std::string sql = std::string("SELECT ") + order_columns +
                      " FROM orders WHERE (created_at < ? OR (created_at = ? AND order_no < ?))";
    if (!filter.status.empty()) sql += " AND status = ?";
    if (filter.user_id) sql += " AND user_id = ?";
    if (!filter.query.empty())
        sql += " AND (order_no LIKE ? ESCAPE '\\' OR trade_no LIKE ? ESCAPE '\\' OR plan_name LIKE ? ESCAPE '\\')";
    sql += " ORDER BY created_at DESC, order_no DESC LIMIT ?";
    stmt st = prepare(sql);
    int i = 1;
    st.bind(i++, before_at);
    st.bind(i++, before_at);
    st.bind(i++, page.after ? before_no : std::string("\xff"));
    if (!filter.status.empty()) st.bind(i++, filter.status);
    if (filter.user_id) st.bind(i++, filter.user_id);
    if (!filter.query.empty()) {
        auto pattern = like_pattern(filter.query);
        for (int k = 0; k < 3; ++k) st.bind(i++, pattern);
    }
    st.bind(i++, page.limit + 1);
    std::vector<order_row> out;
    while (st.executeStep()) out.push_back(read_order(st));
    finish_page(out, page.limit, next,
                [](const order_row& o) { return std::to_string(o.created_at) + ":" + o.order_no; });
    return out;
}

std::int64_t sqlite_store::pending_orders_of(id_t user_id, std::int64_t now) {
    stmt st = prepare("SELECT count(*) FROM orders WHERE user_id = ? AND status = 'pending' AND expires_at > ?");
    st.bind(1, user_id);
    st.bind(2, now);
    st.executeStep();
    return st.getColumn(0).getInt64();
}

std::vector<order_row> sqlite_store::pending_orders(int limit) {
    stmt st = prepare(std::string("SELECT ") + order_columns +
                      " FROM orders WHERE status = 'pending' ORDER BY expires_at LIMIT ?");
    st.bind(1, limit);
    std::vector<order_row> out;
    while (st.executeStep()) out.push_back(read_order(st));
    return out;
}

bool sqlite_store::close_order(const std::string& order_no, std::int64_t now) {
    stmt st = prepare("UPDATE orders SET status = 'closed', closed_at = ? WHERE order_no = ? AND status = 'pending'");
    st.bind(1, now);
    st.bind(2, order_no);
    return st.exec() == 1;
}

void sqlite_store::add_order_event(const order_event_row& e) {
    stmt st = prepare(
        "INSERT INTO order_events (order_no, at, source, client_ip, verdict, detail) VALUES (?,?,?,?,?,?)");
    st.bind(1, e.order_no);
    st.bind(2, e.at);
    st.bind(3, e.source);
    st.bind(4, e.client_ip);
    st.bind(5, e.verdict);
    st.bind(6, e.detail);
    st.exec();
}

std::vector<order_event_row> sqlite_store::order_events(const std::string& order_no) {
    stmt st = prepare(
        "SELECT id, order_no, at, source, client_ip, verdict, detail FROM order_events WHERE order_no = ? ORDER BY id");
    st.bind(1, order_no);
    std::vector<order_event_row> out;
    while (st.executeStep())
        out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getString(), st.getColumn(2).getInt64(),
                       st.getColumn(3).getString(), st.getColumn(4).getString(), st.getColumn(5).getString(),
                       st.getColumn(6).getString()});
    return out;
}

std::optional<order_claim> sqlite_store::claim_order(const std::string& order_no, const std::string& trade_no,
                                                     std::int64_t now) {
    auto o = order(order_no);
    if (!o) throw app_error("not_found", "no such order");
    if (o->status == "paid") return std::nullopt;
    // The claim itself: only one transaction can move the order to paid.
    stmt claim = prepare(
        "UPDATE orders SET status = 'paid', paid_at = ?, closed_at = NULL, trade_no = coalesce(?, trade_no) "
        "WHERE order_no = ? AND status != 'paid'");
    claim.bind(1, now);
    bind_text_or_null(claim, 2, trade_no);
    claim.bind(3, order_no);
    if (claim.exec() != 1) return std::nullopt;
    return order_claim{o->user_id, o->questions, o->days, o->amount_cents};
}

}  // namespace chatd::store
