#include "auth/accounts.hpp"

#include "util/app_error.hpp"

namespace chatd::auth {

using boost::asio::awaitable;

awaitable<std::optional<store::user_row>> accounts::user(store::id_t id) {
    co_return co_await db_.run([id](store::store& st) { return st.user_by_id(id); });
}

awaitable<store::user_row> accounts::update_profile(store::id_t id, store::profile_change change) {
    co_return co_await db_.run([id, change = std::move(change)](store::store& st) {
        st.update_user(id, change);
        auto u = st.user_by_id(id);
        if (!u) throw app_error("not_found", "no such user");
        return *u;
    });
}

awaitable<store::page<store::user_row>> accounts::list(std::string query, store::page_cursor page) {
    co_return co_await db_.read([=](store::store& st) {
        store::page<store::user_row> out;
        out.items = st.users(query, page, out.next);
        return out;
    });
}

awaitable<std::optional<store::user_row>> accounts::find(store::id_t id) {
    co_return co_await db_.read([id](store::store& st) { return st.user_by_id(id); });
}

awaitable<bool> accounts::wechat_user_banned(std::string openid) {
    auto user = co_await db_.run([openid](store::store& st) { return st.user_by_openid(openid); });
    co_return user && user->banned;
}

awaitable<bool> accounts::set_banned(store::id_t id, bool banned) {
    bool was = co_await db_.run([id, banned](store::store& st) {
        auto u = st.user_by_id(id);
        if (!u) throw app_error("not_found", "no such user");
        st.set_banned(id, banned);
        return u->banned;
    });
    auth_.forget_user(id);
    co_return was;
}

}  // namespace chatd::auth
