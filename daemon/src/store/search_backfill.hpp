#pragma once
// Indexes the messages stored before the search index existed, a slice at a time, so that
// questions keep flowing meanwhile.
#include <boost/asio/awaitable.hpp>
#include <functional>

#include "store/database.hpp"

namespace chatd::store {

boost::asio::awaitable<void> backfill_search(database& db, std::function<bool()> stopping);

}  // namespace chatd::store
