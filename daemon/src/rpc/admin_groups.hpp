#pragma once
// The admin methods by noun; add_admin_methods (services.hpp) registers them all.
#include "rpc/services.hpp"

namespace chatd::rpc {

void add_admin_key_methods(dispatcher& d, services& s);
void add_admin_catalog_methods(dispatcher& d, services& s);
void add_admin_card_methods(dispatcher& d, services& s);
void add_admin_user_methods(dispatcher& d, services& s);
void add_admin_ops_methods(dispatcher& d, services& s);

}  // namespace chatd::rpc
