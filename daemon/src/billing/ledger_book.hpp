#pragma once
// The ledger as users and operators read it: a user's rows, the rewards their invitations
// earned, and whether every balance still equals the sum of its ledger rows.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <mutex>

#include "store/database.hpp"
#include "util/task_counter.hpp"

namespace chatd::billing {

class ledger_book {
public:
    ledger_book(store::database& db, task_counter& tasks);

    boost::asio::awaitable<store::page<store::ledger_row>> rows(store::id_t user_id, store::page_cursor page);
    boost::asio::awaitable<store::store::invite_stats> invites(store::id_t user_id);

    struct consistency {
        bool consistent = true;
        std::int64_t at = 0;  // 0: not checked yet
    };
    // On a big site the check takes seconds: then the last result is given (none before the
    // first check ends) and refreshed in the background when older than ten minutes; while the
    // check is cheap it runs on every call. `big`: a site expected to be slow before any check.
    boost::asio::awaitable<consistency> consistency_check(bool big, std::int64_t now);

private:
    boost::asio::awaitable<consistency> check_now();

    store::database& db_;
    task_counter& tasks_;
    struct check_state {
        std::mutex mu;
        consistency last;
        std::chrono::steady_clock::duration took{};
        bool running = false;
    };
    std::shared_ptr<check_state> check_ = std::make_shared<check_state>();
};

}  // namespace chatd::billing
