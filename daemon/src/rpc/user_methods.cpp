// Methods for visitors on the public listener (CONTRACT §5).
#include "rpc/method_groups.hpp"

namespace chatd::rpc {

void add_user_methods(dispatcher& d, services& s) {
    add_user_login_methods(d, s);
    add_user_account_methods(d, s);
    add_user_chat_methods(d, s);
}

}  // namespace chatd::rpc
