// Operator methods (CONTRACT §7): the admin socket, and admins' web sessions.
#include "rpc/method_groups.hpp"

namespace chatd::rpc {

void add_admin_methods(dispatcher& d, services& s) {
    add_admin_key_methods(d, s);
    add_admin_catalog_methods(d, s);
    add_admin_card_methods(d, s);
    add_admin_user_methods(d, s);
    add_admin_ops_methods(d, s);
}

}  // namespace chatd::rpc
