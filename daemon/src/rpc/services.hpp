#pragma once
// What the RPC methods work with. Owned by the app; methods hold references.
#include <chrono>
#include <functional>
#include <memory>

#include "auth/accounts.hpp"
#include "auth/api_keys.hpp"
#include "store/attempt_limiter.hpp"
#include "auth/auth_service.hpp"
#include "billing/card_service.hpp"
#include "billing/ledger_book.hpp"
#include "chat/catalog.hpp"
#include "chat/chat_service.hpp"
#include "chat/conversations.hpp"
#include "config/config.hpp"
#include "config/settings.hpp"
#include "ops/key_registry.hpp"
#include "ops/site_admin.hpp"
#include "pay/payments.hpp"
#include "rpc/jsonrpc.hpp"
#include "upstream/key_checks.hpp"
#include "upstream/key_pool.hpp"
#include "wechat/login.hpp"

namespace chatd::rpc {

// Methods reach the database only through these services.
struct services {
    auth::auth_service& auth;
    auth::accounts& accounts;
    auth::api_keys& api_keys;  // users' keys for the OpenAI-compatible API
    chat::chat_service& chat;
    chat::catalog& catalog;
    chat::conversations& conversations;
    billing::card_service& cards;
    billing::ledger_book& ledger;
    ops::key_registry& keys;
    ops::site_admin& site_admin;
    upstream::key_pool& pool;
    upstream::client& client;
    settings& site;
    std::function<std::shared_ptr<const config>()> get_config;
    std::chrono::steady_clock::time_point started;
    store::attempt_limiter& abuse;  // failed card redemptions and similar attempts
    wechat::login_service& wechat;
    wechat::api& wechat_api;
    pay::payments& payments;
    std::string store_backend = "sqlite";  // sqlite | postgres
    std::string instance;                  // this process among several: host:port
    const dispatcher* methods = nullptr;   // set by add_methods
};

// A list call's {cursor?, limit?} (CONTRACT §4): the limit defaults and is clamped to 1..most.
store::page_cursor page_of(const params& p, int default_limit, int most);
// A list call's result: {"items": …, "next_cursor": … | null}.
json::object page_json(json::array items, const std::optional<std::string>& next);

// Registers every method of the table in methods.cpp.
void add_methods(dispatcher& d, services& s);

// JSON shapes that several methods share (views.cpp).
json::object user_json(const store::user_row& u);
json::array ledger_json(const std::vector<store::ledger_row>& rows);
json::object conversation_json(const store::conversation_row& c);
// Where a conversation's questions came from: {source: "web"|"api", api_key_name?} (the key's name).
void put_source(json::object& o, const store::conversation_row& c);
// A personal API key as its owner and operators see it: {id, name, masked, created_at, last_used_at}.
json::object api_key_json(const store::api_key_row& k);
// An upload as POST /api/upload answers and messages list it: {id, name, mime, size, kind, chars?}.
json::object attachment_json(const store::upload_row& u);
// Plans and orders (CONTRACT §11); an order's balance is the buyer's, once paid.
json::object plan_json(const store::plan_row& p);
json::object order_json(const store::order_row& o);
// A conversation with every message of its tree (users see their own; admins any).
json::object conversation_detail(const chat::conversation_tree& tree);

}  // namespace chatd::rpc
