#pragma once
// One payment provider as payments (payments.hpp) drives it: place an order, ask about it,
// close it, and check a notification it sent. A provider may offer several channels (epay takes
// Alipay and WeChat through one merchant account); each order names the channel it was for.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/http.hpp"
#include "store/order_book.hpp"

namespace chatd::pay {

// The provider could not be reached or refused the call; the message is safe to log (no
// secret, no whole body).
struct provider_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// How long one call to a provider may take: a buyer is waiting on it.
constexpr auto provider_timeout = std::chrono::seconds(10);

struct placed {
    std::string qr_url;   // to draw as a QR code
    std::string pay_url;  // to open (a phone cannot scan its own screen)
    std::string trade_no;
};

enum class trade_state { pending, paid, closed };

struct trade {
    trade_state state = trade_state::pending;
    std::string trade_no;
    std::int64_t amount_cents = 0;  // what was paid, when paid
};

// A notification whose signature and merchant were checked: what it says happened.
struct notice {
    std::string order_no, trade_no;
    std::int64_t amount_cents = 0;
    bool paid = false;  // false: some other state change, acknowledged and ignored
};

struct checked_notice {
    std::optional<notice> ok;
    std::string refused;  // why not, for the log and the order's events
};

class provider {
public:
    virtual ~provider() = default;
    virtual std::string name() const = 0;                   // wechat | alipay | epay
    virtual std::vector<std::string> channels() const = 0;  // wechat | alipay | epay_alipay | epay_wxpay
    virtual boost::asio::awaitable<placed> place(const store::order_row& order, const std::string& notify_url,
                                                 const std::string& client_ip) = 0;
    virtual boost::asio::awaitable<trade> query(const store::order_row& order) = 0;
    // Closes the order at the provider, where it has such a call.
    virtual boost::asio::awaitable<void> close(const store::order_row& order) = 0;
    virtual checked_notice check(const net::request& notification) const = 0;
    // The provider's own replies to its notifications.
    virtual net::response accepted() const = 0;
    virtual net::response refused() const = 0;
};

}  // namespace chatd::pay
