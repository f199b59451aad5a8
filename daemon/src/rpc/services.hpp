#pragma once
// What the RPC methods work with. Owned by the app; methods hold references.
#include <chrono>
#include <functional>
#include <memory>

#include "auth/auth_service.hpp"
#include "billing/card_service.hpp"
#include "chat/catalog.hpp"
#include "chat/chat_service.hpp"
#include "config/config.hpp"
#include "config/settings.hpp"
#include "rpc/jsonrpc.hpp"
#include "store/database.hpp"
#include "upstream/key_checks.hpp"
#include "upstream/key_pool.hpp"
#include "util/rate_limiter.hpp"
#include "util/task_counter.hpp"
#include "wechat/login.hpp"

namespace chatd::rpc {

struct services {
    store::database& db;
    auth::auth_service& auth;
    chat::chat_service& chat;
    chat::catalog& catalog;
    billing::card_service& cards;
    upstream::key_pool& pool;
    upstream::client& client;
    settings& site;
    std::function<std::shared_ptr<const config>()> get_config;
    std::chrono::steady_clock::time_point started;
    rate_limiter& abuse;  // failed card redemptions and similar attempts
    wechat::login_service& wechat;
    wechat::api& wechat_api;
    task_counter& tasks;  // jobs a method leaves running after it answers
};

// A list call's {cursor?, limit?} (CONTRACT §4): the limit defaults and is clamped to 1..most.
store::page_cursor page_of(const params& p, int default_limit, int most);
// A list call's result: {"items": …, "next_cursor": … | null}.
json::object page_json(json::array items, const std::optional<std::string>& next);

void add_user_methods(dispatcher& d, services& s);
// A conversation with every message of its tree (users see their own; admins any).
json::object conversation_detail(store::store& st, const store::conversation_row& c);
json::object user_json(const store::user_row& u);
json::array ledger_json(const std::vector<store::ledger_row>& rows);
void add_admin_methods(dispatcher& d, services& s);

}  // namespace chatd::rpc
