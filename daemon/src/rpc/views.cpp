// JSON shapes and list helpers that user and admin methods share.
#include "rpc/services.hpp"

namespace chatd::rpc {

store::page_cursor page_of(const params& p, int default_limit, int most) {
    store::page_cursor page;
    page.after = p.opt_str("cursor");
    page.limit = static_cast<int>(std::clamp<std::int64_t>(p.opt_i64("limit").value_or(default_limit), 1, most));
    return page;
}

json::object page_json(json::array items, const std::optional<std::string>& next) {
    return json::object{{"items", std::move(items)}, {"next_cursor", next ? json::value(*next) : json::value(nullptr)}};
}

json::array ledger_json(const std::vector<store::ledger_row>& rows) {
    json::array items;
    for (auto& l : rows)
        items.push_back(json::object{{"at", l.at}, {"delta_trial", l.delta_trial}, {"delta_paid", l.delta_paid},
                                     {"reason", l.reason}, {"ref", null_or(l.ref)}});
    return items;
}

json::object user_json(const store::user_row& u) {
    auto now = chat::unix_now();
    json::object o{{"id", u.id},
                   {"name", u.name},
                   {"is_admin", u.is_admin},
                   {"theme", u.theme},
                   {"invite_code", u.invite_code},
                   {"balance", chat::balance_to_json(u.balance, now)}};
    if (u.avatar) o["avatar"] = *u.avatar;
    if (u.username) o["username"] = *u.username;
    return o;
}

}  // namespace chatd::rpc
