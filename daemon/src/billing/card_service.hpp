#pragma once
// Recharge cards and grants as the RPC methods use them: each call one job on the database
// thread, the rules in credits.hpp and cards.hpp.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "billing/balance.hpp"
#include "store/database.hpp"

namespace chatd::billing {

class card_service {
public:
    explicit card_service(store::database& db) : db_(db) {}

    // New codes (normalised) for a new batch; invalid_params when the batch name is taken.
    boost::asio::awaitable<std::vector<std::string>> generate(std::string batch, std::int64_t count,
                                                              std::int64_t questions, std::int64_t days,
                                                              std::optional<std::int64_t> redeem_before,
                                                              std::int64_t now);
    // Operator listings, on the read-only connection.
    boost::asio::awaitable<store::page<store::card_row>> list(std::string batch, std::string status, store::page_cursor page,
                                           std::int64_t now);
    boost::asio::awaitable<std::vector<store::batch_row>> batches(std::int64_t now);
    boost::asio::awaitable<std::int64_t> revoke(std::vector<std::string> codes, std::string batch, std::int64_t now);

    // billing::redeem_card and billing::grant, each one transaction. A grant returns the
    // balance before and after it (for the audit log).
    boost::asio::awaitable<balance> redeem(store::id_t user_id, std::string code, std::int64_t now,
                                           std::int64_t paid_percent);
    boost::asio::awaitable<std::pair<balance, balance>> grant(store::id_t user_id, std::int64_t questions,
                                                              std::optional<std::int64_t> days, std::string bucket,
                                                              std::string actor, std::int64_t now);

private:
    store::database& db_;
};

}  // namespace chatd::billing
