// Operator methods for recharge cards: batches, listings, revocation.
#include <boost/asio/use_awaitable.hpp>

#include "billing/cards.hpp"
#include "rpc/handlers.hpp"
#include "util/random.hpp"
#include "util/text.hpp"

namespace chatd::rpc {

namespace asio = boost::asio;
using asio::awaitable;

awaitable<json::value> admin_cards_generate(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto count = p.i64("count"), questions = p.i64("questions"), days = p.i64("days");
    if (count < 1 || count > 100'000) fail("invalid_params", "count: 1 to 100000");
    if (questions < 1 || questions > 1'000'000) fail("invalid_params", "questions: 1 to 1000000");
    if (days < 1 || days > 3650) fail("invalid_params", "days: 1 to 3650");
    auto now = chat::unix_now();
    auto redeem_before = p.opt_i64("redeem_before");
    if (redeem_before && *redeem_before <= now) fail("invalid_params", "redeem_before is in the past");
    auto batch = trim(p.opt_str("batch").value_or(""));
    if (batch.empty()) batch = "batch-" + std::to_string(now) + "-" + random_hex(3);
    if (utf8_length(batch) > 64 || batch.find_first_of("\r\n,\"") != std::string::npos)
        fail("invalid_params", "batch: up to 64 characters, no commas, quotes or line breaks");
    auto codes = co_await s.cards.generate(batch, count, questions, days, redeem_before, now);
    json::array cards;
    cards.reserve(codes.size());
    for (auto& c : codes)
        cards.push_back(json::object{{"code", billing::format_card_code(c)}, {"questions", questions}, {"days", days}});
    // The codes themselves stay out of the audit log: they are as good as money.
    ctx.audit_after = json::object{{"batch", batch}, {"count", cards.size()}};
    co_return json::object{{"batch", batch}, {"redeem_before", null_or(redeem_before)}, {"cards", std::move(cards)}};
}

awaitable<json::value> admin_cards_list(services& s, const json::value& v, call_context&) {
    params p(v);
    auto page = page_of(p, 100, 100000);
    if (page.after) page.after = billing::normalise_card_code(*page.after).value_or(*page.after);
    auto batch = p.opt_str("batch").value_or("");
    auto status = p.opt_str("status").value_or("");
    auto [rows, next] = co_await s.cards.list(batch, status, page, chat::unix_now());
    json::array items;
    for (auto& c : rows)
        items.push_back(json::object{{"code", billing::format_card_code(c.code)}, {"batch", c.batch},
                                     {"questions", c.questions}, {"days", c.days},
                                     {"redeem_before", null_or(c.redeem_before)}, {"status", c.status},
                                     {"redeemed_by", null_or(c.redeemed_by)},
                                     {"redeemed_at", null_or(c.redeemed_at)}, {"created_at", c.created_at}});
    if (next) next = billing::format_card_code(*next);
    co_return page_json(std::move(items), next);
}

awaitable<json::value> admin_cards_batches(services& s, const json::value&, call_context&) {
    json::array items;
    for (auto& b : co_await s.cards.batches(chat::unix_now()))
        items.push_back(json::object{{"batch", b.name}, {"count", b.count}, {"unused", b.unused},
                                     {"used", b.used}, {"revoked", b.revoked}, {"expired", b.expired},
                                     {"questions", b.questions}, {"days", b.days},
                                     {"redeem_before", null_or(b.redeem_before)}, {"created_at", b.created_at}});
    co_return json::object{{"items", std::move(items)}};
}

awaitable<json::value> admin_cards_revoke(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    std::vector<std::string> codes;
    if (auto cv = p.get("codes")) {
        if (!cv->is_array()) fail("invalid_params", "'codes' must be an array of strings");
        for (auto& c : cv->get_array()) {
            auto code = c.is_string() ? billing::normalise_card_code(c.get_string()) : std::nullopt;
            if (!code) fail("invalid_params", "not a card code: " + json::serialize(c));
            codes.push_back(*code);
        }
    }
    auto batch = p.opt_str("batch").value_or("");
    if (codes.empty() && batch.empty()) fail("invalid_params", "give 'codes' or 'batch'");
    auto n = co_await s.cards.revoke(codes, batch, chat::unix_now());
    ctx.audit_after = json::object{{"revoked", n}};
    co_return json::object{{"revoked", n}};
}

}  // namespace chatd::rpc
