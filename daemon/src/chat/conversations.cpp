#include "chat/conversations.hpp"

#include "store/search_index.hpp"
#include "store/text_search.hpp"
#include "util/app_error.hpp"

namespace chatd::chat {

using boost::asio::awaitable;

awaitable<store::page<store::conversation_row>> conversations::list(store::id_t user_id, std::string query,
                                                                    store::page_cursor page) {
    co_return co_await db_.run([=](store::store& st) {
        store::page<store::conversation_row> out;
        // Read with the list: a choice just changed shows at once.
        auto user = st.user_by_id(user_id);
        auto view = user && user->show_api_history ? store::store::conversation_view::web_and_api
                                                   : store::store::conversation_view::web;
        out.items = st.conversations(user_id, query, page, out.next, view);
        return out;
    });
}

awaitable<conversation_tree> conversations::get(store::id_t user_id, store::id_t id) {
    co_return co_await db_.run([=](store::store& st) {
        auto c = st.conversation(id);
        if (!c || c->user_id != user_id || c->deleted_at) throw app_error("not_found", "no such conversation");
        return conversation_tree{*c, st.conversation_messages(id)};
    });
}

awaitable<bool> conversations::rename(store::id_t user_id, store::id_t id, std::string title, std::int64_t now) {
    co_return co_await db_.run([=](store::store& st) { return st.rename_conversation(user_id, id, title, now); });
}

awaitable<bool> conversations::remove(store::id_t user_id, store::id_t id, std::int64_t now) {
    auto [removed, unused] = co_await db_.run([=](store::store& st) {
        bool ok = st.delete_conversation(user_id, id, now);
        return std::pair{ok, ok ? st.forget_uploads(id) : std::vector<std::string>{}};
    });
    co_await uploads_.drop_blobs(std::move(unused));
    co_return removed;
}

awaitable<bool> conversations::pin(store::id_t user_id, store::id_t id, bool pinned) {
    co_return co_await db_.run([=](store::store& st) { return st.pin_conversation(user_id, id, pinned); });
}

awaitable<store::page<store::conversation_row>> conversations::list_any(std::optional<store::id_t> user_id,
                                                                        std::string query,
                                                                        store::page_cursor page) {
    const bool searching = !query.empty() && !user_id;
    // The search index takes new messages a batch at a time: what was just written is found too.
    if (searching) co_await store::index_queued_now(db_);
    co_return co_await db_.read([=](store::store& st) {
        store::page<store::conversation_row> out;
        if (searching) {
            auto expression = store::search_expression(query);
            if (!expression.empty()) out.items = st.search_conversations(expression, page, out.next);
            return out;
        }
        out.items = st.conversations(user_id.value_or(0), query, page, out.next,
                                     store::store::conversation_view::operator_view);
        return out;
    });
}

awaitable<conversation_tree> conversations::get_any(store::id_t id) {
    co_return co_await db_.read([id](store::store& st) {
        auto c = st.conversation(id);
        if (!c) throw app_error("not_found", "no such conversation");
        return conversation_tree{*c, st.conversation_messages(id)};
    });
}

}  // namespace chatd::chat
