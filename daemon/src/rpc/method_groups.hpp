#pragma once
// The methods by noun; add_user_methods and add_admin_methods (services.hpp) register them all.
#include "rpc/services.hpp"

namespace chatd::rpc {

void add_user_login_methods(dispatcher& d, services& s);
void add_user_account_methods(dispatcher& d, services& s);
void add_user_chat_methods(dispatcher& d, services& s);

void add_admin_key_methods(dispatcher& d, services& s);
void add_admin_catalog_methods(dispatcher& d, services& s);
void add_admin_card_methods(dispatcher& d, services& s);
void add_admin_user_methods(dispatcher& d, services& s);
void add_admin_ops_methods(dispatcher& d, services& s);

}  // namespace chatd::rpc
