#pragma once
// Every JSON-RPC method's handler, one named function each, in the file of its noun; the
// table in methods.cpp gives each its name, who may call it and whether it is audited.
#include "rpc/services.hpp"

namespace chatd::rpc {

using method_handler = boost::asio::awaitable<json::value>(services& s, const json::value& params,
                                                           call_context& ctx);

// Logging in and out (user_login.cpp)
method_handler auth_wechat_start;
method_handler auth_wechat_poll;
method_handler auth_wechat_code;
method_handler auth_password_register;
method_handler auth_password_login;
method_handler auth_logout;

// The site and one's own account (user_account.cpp)
method_handler site_info;
method_handler roles_list;
method_handler presets_list;
method_handler me_get;
method_handler me_update;
method_handler cards_redeem;
method_handler me_ledger;
method_handler invite_info;

// One's own keys for the OpenAI-compatible API (user_api_keys.cpp)
method_handler me_apikeys_list;
method_handler me_apikeys_create;
method_handler me_apikeys_revoke;

// Buying plans online (user_pay.cpp)
method_handler pay_plans;
method_handler pay_create;
method_handler pay_order;
method_handler me_orders;

// Questions, answers, conversations (user_chat.cpp)
method_handler chat_send;
method_handler chat_regenerate;
method_handler chat_stop;
method_handler conversations_list;
method_handler conversations_get;
method_handler conversations_rename;
method_handler conversations_delete;
method_handler conversations_pin;

// Operators: upstream keys and providers (admin_keys.cpp)
method_handler admin_providers_list;
method_handler admin_keys_add;
method_handler admin_keys_list;
method_handler admin_keys_remove;
method_handler admin_keys_test;
method_handler admin_keys_history;
method_handler admin_keys_balance;
method_handler admin_keys_enable;
method_handler admin_keys_disable;

// Operators: models, roles, presets (admin_catalog.cpp)
method_handler admin_models_list;
method_handler admin_models_set;
method_handler admin_models_remove;
method_handler admin_roles_list;
method_handler admin_roles_set;
method_handler admin_roles_remove;
method_handler admin_presets_list;
method_handler admin_presets_set;
method_handler admin_presets_remove;

// Operators: recharge cards (admin_cards.cpp)
method_handler admin_cards_generate;
method_handler admin_cards_list;
method_handler admin_cards_batches;
method_handler admin_cards_revoke;

// Operators: users and admins (admin_users.cpp)
method_handler admin_users_list;
method_handler admin_users_get;
method_handler admin_users_grant;
method_handler admin_admins_add;
method_handler admin_users_ban;
method_handler admin_users_unban;
method_handler admin_users_set_api;

// Operators: running the site (admin_ops.cpp)
method_handler admin_settings_get;
method_handler admin_settings_set;
method_handler admin_conversations_list;
method_handler admin_audit_list;
method_handler admin_stats;
method_handler admin_stats_models;
method_handler admin_conversations_get;
method_handler admin_backup;
method_handler system_list_methods;
method_handler admin_status;

// Operators: plans and orders (admin_pay.cpp)
method_handler admin_plans_list;
method_handler admin_plans_set;
method_handler admin_plans_remove;
method_handler admin_orders_list;
method_handler admin_orders_get;
method_handler admin_orders_sync;

}  // namespace chatd::rpc
