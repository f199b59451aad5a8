#pragma once
// Every machine reason an error can carry (CONTRACT §4 and §6): its JSON-RPC code and the
// message given when the thrower has nothing more precise to say. The web app translates
// these same reasons (webui/src/i18n.ts, checked by a unit test).
#include <span>
#include <string_view>

namespace chatd {

struct reason_info {
    std::string_view reason;
    int rpc_code;  // -32602 (invalid params) or an application code in -32000…-32099
    std::string_view message;
    bool rpc = true;  // false: only an answer stream's error event carries it
};

std::span<const reason_info> reasons();
// The entry for `reason`, or nullptr for a reason not in the table.
const reason_info* find_reason(std::string_view reason);
// Its JSON-RPC code; -32000 for a reason not in the table.
int rpc_code_of(std::string_view reason);

}  // namespace chatd
