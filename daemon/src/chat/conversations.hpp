#pragma once
// Conversations as lists and trees: a user's own, and every user's for operators (deleted ones
// too, searched through the full-text index).
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "chat/attachments.hpp"
#include "store/database.hpp"

namespace chatd::chat {

struct conversation_tree {
    store::conversation_row conversation;
    std::vector<store::message_row> messages;  // every branch
};

class conversations {
public:
    conversations(store::database& db, attachments& uploads) : db_(db), uploads_(uploads) {}

    boost::asio::awaitable<store::page<store::conversation_row>> list(store::id_t user_id, std::string query,
                                                                      store::page_cursor page);
    // The owner's conversation; not_found when it is another user's or deleted.
    boost::asio::awaitable<conversation_tree> get(store::id_t user_id, store::id_t id);
    // Each returns false when the user has no such conversation. A removed conversation's
    // uploads go with it.
    boost::asio::awaitable<bool> rename(store::id_t user_id, store::id_t id, std::string title, std::int64_t now);
    boost::asio::awaitable<bool> remove(store::id_t user_id, store::id_t id, std::int64_t now);
    boost::asio::awaitable<bool> pin(store::id_t user_id, store::id_t id, bool pinned);

    // Operators: every user's (or `user_id`'s), on the read-only connection. Across every user
    // a query goes to the full-text index; one user's few conversations are scanned.
    boost::asio::awaitable<store::page<store::conversation_row>> list_any(std::optional<store::id_t> user_id,
                                                                          std::string query,
                                                                          store::page_cursor page);
    boost::asio::awaitable<conversation_tree> get_any(store::id_t id);

private:
    store::database& db_;
    attachments& uploads_;
};

}  // namespace chatd::chat
