#pragma once
// Users' accounts as their owners and operators see and change them: profile, listings, bans.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "auth/auth_service.hpp"
#include "store/database.hpp"

namespace chatd::auth {

class accounts {
public:
    accounts(store::database& db, auth_service& auth) : db_(db), auth_(auth) {}

    // Read fresh on the writer's connection: a balance just spent shows at once.
    boost::asio::awaitable<std::optional<store::user_row>> user(store::id_t id);
    // Changes what is given; returns the account afterwards. not_found when it is gone.
    boost::asio::awaitable<store::user_row> update_profile(store::id_t id, store::profile_change change);
    // Operator listing on the read-only connection.
    boost::asio::awaitable<store::page<store::user_row>> list(std::string query, store::page_cursor page);
    boost::asio::awaitable<std::optional<store::user_row>> find(store::id_t id);
    // Whether the WeChat user `openid` has an account that is banned (such logins are refused
    // before they confirm).
    boost::asio::awaitable<bool> wechat_user_banned(std::string openid);
    // Returns whether the user was banned before; their cached sessions are dropped so the
    // change holds from their next request. not_found when there is no such user.
    boost::asio::awaitable<bool> set_banned(store::id_t id, bool banned);

private:
    store::database& db_;
    auth_service& auth_;
};

}  // namespace chatd::auth
