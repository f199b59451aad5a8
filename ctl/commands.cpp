#include "commands.hpp"

#include <initializer_list>

namespace chatd::ctl {

std::span<const command> command_table() {
    static const std::vector<command> table = [] {
        std::vector<command> joined;
        for (const auto rows : {status_commands(), key_commands(), catalog_commands(),
                                card_commands(), pay_commands(), user_commands(), log_commands(), report_commands(),
                                admin_commands(), maintenance_commands(), rpc_commands()})
            joined.insert(joined.end(), rows.begin(), rows.end());
        return joined;
    }();
    return table;
}

}  // namespace chatd::ctl
