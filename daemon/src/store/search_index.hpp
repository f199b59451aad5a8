#pragma once
// Keeps the SQLite search index: indexes the new messages queued by questions and answers a
// batch at a time (a quarter of a second behind, longer while a burst's backlog drains), and the
// messages stored before the index existed a slice at a time, so that questions keep flowing
// meanwhile.
#include <boost/asio/awaitable.hpp>
#include <functional>

#include "store/database.hpp"

namespace chatd::store {

boost::asio::awaitable<void> keep_search_index(database& db, std::function<bool()> stopping);

// Indexes everything queued now, before a search that must find what was just written.
boost::asio::awaitable<void> index_queued_now(database& db);

}  // namespace chatd::store
