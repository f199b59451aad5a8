// The method table (CONTRACT §5 for users, §7 for operators): one row per JSON-RPC method,
// {name, who may call it, its handler, whether the audit log records it}.
#include "rpc/handlers.hpp"

namespace chatd::rpc {

namespace {

constexpr bool audited = true;

struct method_row {
    std::string_view name;
    access who;
    method_handler* fn;
    bool audited = false;
};

const method_row method_table[] = {
    // Logging in and out (user_login.cpp)
    {"auth.wechat.start", access::anyone, auth_wechat_start},
    {"auth.wechat.poll", access::anyone, auth_wechat_poll},
    {"auth.wechat.code", access::anyone, auth_wechat_code},
    {"auth.password.register", access::anyone, auth_password_register},
    {"auth.password.login", access::anyone, auth_password_login},
    {"auth.logout", access::anyone, auth_logout},

    // The site and one's own account (user_account.cpp)
    {"site.info", access::anyone, site_info},
    {"roles.list", access::anyone, roles_list},
    {"presets.list", access::anyone, presets_list},
    {"me.get", access::user, me_get},
    {"me.update", access::user, me_update},
    {"cards.redeem", access::user, cards_redeem},
    {"me.ledger", access::user, me_ledger},
    {"invite.info", access::user, invite_info},

    // One's own keys for the OpenAI-compatible API (user_api_keys.cpp)
    {"me.apikeys.list", access::user, me_apikeys_list},
    {"me.apikeys.create", access::user, me_apikeys_create},
    {"me.apikeys.revoke", access::user, me_apikeys_revoke},

    // Buying plans online (user_pay.cpp)
    {"pay.plans", access::anyone, pay_plans},
    {"pay.create", access::user, pay_create},
    {"pay.order", access::user, pay_order},
    {"me.orders", access::user, me_orders},

    // Questions, answers, conversations (user_chat.cpp)
    {"chat.send", access::user, chat_send},
    {"chat.regenerate", access::user, chat_regenerate},
    {"chat.stop", access::user, chat_stop},
    {"conversations.list", access::user, conversations_list},
    {"conversations.get", access::user, conversations_get},
    {"conversations.rename", access::user, conversations_rename},
    {"conversations.delete", access::user, conversations_delete},
    {"conversations.pin", access::user, conversations_pin},

    // Operators: upstream keys and providers (admin_keys.cpp)
    {"admin.providers.list", access::admin, admin_providers_list},
    {"admin.keys.add", access::admin, admin_keys_add, audited},
    {"admin.keys.list", access::admin, admin_keys_list},
    {"admin.keys.remove", access::admin, admin_keys_remove, audited},
    {"admin.keys.test", access::admin, admin_keys_test, audited},
    {"admin.keys.history", access::admin, admin_keys_history},
    {"admin.keys.balance", access::admin, admin_keys_balance},
    {"admin.keys.enable", access::admin, admin_keys_enable, audited},
    {"admin.keys.disable", access::admin, admin_keys_disable, audited},

    // Operators: models, roles, presets (admin_catalog.cpp)
    {"admin.models.list", access::admin, admin_models_list},
    {"admin.models.set", access::admin, admin_models_set, audited},
    {"admin.models.remove", access::admin, admin_models_remove, audited},
    {"admin.roles.list", access::admin, admin_roles_list},
    {"admin.roles.set", access::admin, admin_roles_set, audited},
    {"admin.roles.remove", access::admin, admin_roles_remove, audited},
    {"admin.presets.list", access::admin, admin_presets_list},
    {"admin.presets.set", access::admin, admin_presets_set, audited},
    {"admin.presets.remove", access::admin, admin_presets_remove, audited},

    // Operators: recharge cards (admin_cards.cpp)
    {"admin.cards.generate", access::admin, admin_cards_generate, audited},
    {"admin.cards.list", access::admin, admin_cards_list},
    {"admin.cards.batches", access::admin, admin_cards_batches},
    {"admin.cards.revoke", access::admin, admin_cards_revoke, audited},

    // Operators: plans and orders (admin_pay.cpp)
    {"admin.plans.list", access::admin, admin_plans_list},
    {"admin.plans.set", access::admin, admin_plans_set, audited},
    {"admin.plans.remove", access::admin, admin_plans_remove, audited},
    {"admin.orders.list", access::admin, admin_orders_list},
    {"admin.orders.get", access::admin, admin_orders_get},
    {"admin.orders.sync", access::admin, admin_orders_sync, audited},

    // Operators: users and admins (admin_users.cpp)
    {"admin.users.list", access::admin, admin_users_list},
    {"admin.users.get", access::admin, admin_users_get},
    {"admin.users.grant", access::admin, admin_users_grant, audited},
    {"admin.admins.add", access::admin, admin_admins_add, audited},
    {"admin.users.ban", access::admin, admin_users_ban, audited},
    {"admin.users.unban", access::admin, admin_users_unban, audited},
    {"admin.users.set_api", access::admin, admin_users_set_api, audited},

    // Operators: running the site (admin_ops.cpp)
    {"admin.settings.get", access::admin, admin_settings_get},
    {"admin.settings.set", access::admin, admin_settings_set, audited},
    {"admin.conversations.list", access::admin, admin_conversations_list},
    {"admin.audit.list", access::admin, admin_audit_list},
    {"admin.stats", access::admin, admin_stats},
    {"admin.stats.models", access::admin, admin_stats_models},
    {"admin.conversations.get", access::admin, admin_conversations_get},
    {"admin.backup", access::admin, admin_backup, audited},
    {"system.list_methods", access::admin, system_list_methods},
    {"admin.status", access::admin, admin_status},
};

}  // namespace

void add_methods(dispatcher& d, services& s) {
    s.methods = &d;
    for (auto& row : method_table)
        d.add({std::string(row.name), row.who,
               [&s, fn = row.fn](const json::value& params, call_context& ctx) { return fn(s, params, ctx); },
               row.audited});
}

}  // namespace chatd::rpc
