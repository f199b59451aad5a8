#pragma once
// Plans, orders and what payment channels said about them (CONTRACT §11), as stored. Paying an
// order is billing's rule (billing/orders.hpp) over the ledger port; this is the rest.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/types.hpp"

namespace chatd::store {

struct plan_row {
    id_t id = 0;
    std::string name;
    std::int64_t price_cents = 0, questions = 0, days = 0;
    bool enabled = true;
    std::int64_t sort = 0;
};

struct order_row {
    std::string order_no;
    id_t user_id = 0;
    std::optional<id_t> plan_id;
    std::string plan_name;
    std::int64_t questions = 0, days = 0, amount_cents = 0;
    std::string channel;  // wechat | alipay | epay_alipay | epay_wxpay
    std::string status;   // pending | paid | closed
    std::string trade_no, qr_url, pay_url;
    std::int64_t created_at = 0, expires_at = 0;
    std::optional<std::int64_t> paid_at, closed_at;
};

struct order_event_row {
    id_t id = 0;
    std::string order_no;
    std::int64_t at = 0;
    std::string source;  // notify | query | sync | close
    std::string client_ip;
    std::string verdict;  // accepted | duplicate | pending | closed | refused: …
    std::string detail;
};

struct order_filter {
    std::string status;   // empty: any
    id_t user_id = 0;     // 0: anyone
    std::string query;    // part of an order_no or trade_no, or a plan name
};

class order_book {
public:
    virtual ~order_book() = default;

    virtual std::vector<plan_row> plans() = 0;  // by sort, then id
    virtual std::optional<plan_row> plan(id_t id) = 0;
    // id 0 adds a plan; returns its id. not_found for an unknown id.
    virtual id_t upsert_plan(const plan_row& p, std::int64_t now) = 0;
    virtual bool remove_plan(id_t id) = 0;

    virtual void add_order(const order_row& o) = 0;
    // What the provider answered when the order was placed.
    virtual void set_order_links(const std::string& order_no, const std::string& qr_url, const std::string& pay_url,
                                 const std::string& trade_no) = 0;
    virtual std::optional<order_row> order(const std::string& order_no) = 0;
    // Newest first; cursors are "<created_at>:<order_no>".
    virtual std::vector<order_row> orders(const order_filter& filter, const page_cursor& page,
                                          std::optional<std::string>& next) = 0;
    virtual std::int64_t pending_orders_of(id_t user_id, std::int64_t now) = 0;
    // Pending orders the channel should be asked about: every one, expired or not.
    virtual std::vector<order_row> pending_orders(int limit) = 0;
    // pending → closed; false when the order was no longer pending.
    virtual bool close_order(const std::string& order_no, std::int64_t now) = 0;
    virtual void add_order_event(const order_event_row& e) = 0;
    virtual std::vector<order_event_row> order_events(const std::string& order_no) = 0;
};

}  // namespace chatd::store
