#pragma once
// Online payment as users and operators see it (CONTRACT §11): plans, orders placed with a
// provider, notifications checked and credited exactly once, pending orders asked about while
// someone waits and every minute in the background, expired ones closed.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "billing/balance.hpp"
#include "net/http.hpp"
#include "pay/provider.hpp"
#include "store/database.hpp"
#include "store/types.hpp"

namespace chatd {
class settings;
}

namespace chatd::pay {

struct order_view {
    store::order_row order;
    std::optional<billing::balance> balance;  // the buyer's, once paid
};

struct order_detail {
    store::order_row order;
    std::vector<store::order_event_row> events;
};

class payments {
public:
    // Unpaid orders a user may have open at once (too_many_requests beyond).
    static constexpr std::int64_t max_pending_per_user = 5;
    // While someone waits on an order, the provider is asked at most this often.
    static constexpr auto query_interval = std::chrono::seconds(3);

    payments(boost::asio::any_io_executor ex, store::database& db, settings& site);
    ~payments();

    // The providers configured now (start-up and SIGHUP); `public_url` is where they notify.
    void configure(std::vector<std::unique_ptr<provider>> providers, std::string public_url, int order_minutes);
    std::vector<std::string> channels() const;

    boost::asio::awaitable<std::vector<store::plan_row>> plans(bool enabled_only);
    boost::asio::awaitable<std::optional<store::plan_row>> plan(store::id_t id);
    boost::asio::awaitable<store::plan_row> set_plan(store::plan_row plan);
    boost::asio::awaitable<std::optional<store::plan_row>> remove_plan(store::id_t id);

    // pay_unavailable when the channel is not offered or its provider refuses; not_found for a
    // plan that is not on sale.
    boost::asio::awaitable<store::order_row> create(store::id_t user_id, store::id_t plan_id, std::string channel,
                                                    std::string client_ip);
    // The user's own order (not_found otherwise); asks the provider while it is pending.
    boost::asio::awaitable<order_view> order(store::id_t user_id, std::string order_no);
    boost::asio::awaitable<store::page<store::order_row>> orders(store::order_filter filter,
                                                                 store::page_cursor page);
    boost::asio::awaitable<order_detail> detail(std::string order_no);
    // Asks the provider now (`source` "admin" for operators: a provider's failure is then
    // recorded and thrown as pay_unavailable; "query" while a buyer waits; "sync" the minute
    // job); closes the order when expired.
    boost::asio::awaitable<order_view> sync(std::string order_no, std::string source);
    // A provider's notification: the reply is its own success only once the order is paid.
    boost::asio::awaitable<net::response> notify(std::string provider_name, net::request request);

    void start();  // the minute job
    void stop();

private:
    struct setup;
    std::shared_ptr<const setup> current() const;
    boost::asio::awaitable<order_view> settle(const store::order_row& order, const trade& t, std::string source,
                                              std::string client_ip);
    // The order as stored, with its buyer's balance once paid; not_found for an unknown one.
    boost::asio::awaitable<order_view> view_of(std::string order_no);
    boost::asio::awaitable<void> record(std::string order_no, std::string source, std::string client_ip,
                                        std::string verdict, std::string detail);
    boost::asio::awaitable<void> minute_loop();

    boost::asio::any_io_executor ex_;
    store::database& db_;
    settings& site_;
    mutable std::mutex mu_;
    std::shared_ptr<const setup> setup_;
    std::map<std::string, std::chrono::steady_clock::time_point> last_asked_;
    std::shared_ptr<boost::asio::steady_timer> timer_;
    std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
};

}  // namespace chatd::pay
