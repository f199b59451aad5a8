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
                   {"show_api_history", u.show_api_history},
                   {"balance", chat::balance_to_json(u.balance, now)}};
    if (u.avatar) o["avatar"] = *u.avatar;
    if (u.username) o["username"] = *u.username;
    return o;
}

json::object attachment_json(const store::upload_row& u) {
    json::object o{{"id", u.id}, {"name", u.name}, {"mime", u.mime}, {"size", u.size}, {"kind", u.kind}};
    if (u.kind == "file") o["chars"] = u.chars;
    return o;
}

namespace {

json::object message_json(const store::message_row& m) {
    json::object o{{"id", m.id},
                   {"parent_id", null_or(m.parent_id)},
                   {"role", m.role},
                   {"content", m.content},
                   {"status", m.status},
                   {"created_at", m.created_at}};
    if (!m.attachments.empty()) {
        json::array files;
        for (const auto& a : m.attachments) files.push_back(attachment_json(a));
        o["attachments"] = std::move(files);
    }
    if (m.role == "assistant") {
        o["model"] = m.model;
        o["reasoning"] = m.reasoning;
        o["reasoning_ms"] = null_or(m.reasoning_ms);
        if (m.asked_by_admin) o["asked_by_admin"] = true;
        if (!m.error_reason.empty()) o["error"] = json::object{{"reason", m.error_reason}, {"message", m.error_message}};
    }
    return o;
}

}  // namespace

json::object conversation_json(const store::conversation_row& c) {
    json::object o{{"id", c.id},         {"title", c.title},
                        {"pinned", c.pinned}, {"updated_at", c.updated_at},
                        {"created_at", c.created_at}, {"model", c.model},
                        {"role_id", null_or(c.role_id)}};
    put_source(o, c);
    return o;
}

void put_source(json::object& o, const store::conversation_row& c) {
    o["source"] = c.api_key_name ? "api" : "web";
    if (c.api_key_name) o["api_key_name"] = *c.api_key_name;
}

json::object api_key_json(const store::api_key_row& k) {
    return json::object{{"id", k.id},
                        {"name", k.name},
                        {"masked", auth::masked_api_key(k.shown_prefix, k.shown_suffix)},
                        {"created_at", k.created_at},
                        {"last_used_at", null_or(k.last_used_at)}};
}

json::object conversation_detail(const chat::conversation_tree& tree) {
    auto& c = tree.conversation;
    auto o = conversation_json(c);
    o["current_leaf_id"] = null_or(c.current_leaf_id);
    o["system_prompt"] = null_or(c.system_prompt);
    json::array msgs;
    for (auto& m : tree.messages) msgs.push_back(message_json(m));
    o["messages"] = std::move(msgs);
    return o;
}

json::object plan_json(const store::plan_row& p) {
    return json::object{{"id", p.id},       {"name", p.name},       {"price_cents", p.price_cents},
                        {"questions", p.questions}, {"days", p.days}, {"enabled", p.enabled},
                        {"sort", p.sort}};
}

json::object order_json(const store::order_row& o) {
    auto opt = [](const std::optional<std::int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); };
    auto text = [](const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); };
    return json::object{{"order_no", o.order_no},
                        {"user_id", o.user_id},
                        {"status", o.status},
                        {"channel", o.channel},
                        {"amount_cents", o.amount_cents},
                        {"plan", json::object{{"id", o.plan_id ? json::value(*o.plan_id) : json::value(nullptr)},
                                              {"name", o.plan_name},
                                              {"questions", o.questions},
                                              {"days", o.days}}},
                        {"trade_no", text(o.trade_no)},
                        {"qr_url", text(o.qr_url)},
                        {"pay_url", text(o.pay_url)},
                        {"created_at", o.created_at},
                        {"expires_at", o.expires_at},
                        {"paid_at", opt(o.paid_at)},
                        {"closed_at", opt(o.closed_at)}};
}

}  // namespace chatd::rpc
