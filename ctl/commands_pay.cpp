// plans and orders: what users can buy online and what they bought (CONTRACT §11).
#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <cstdio>

#include "command_args.hpp"
#include "command_results.hpp"
#include "commands.hpp"
#include "errors.hpp"
#include "messages.hpp"
#include "output.hpp"

namespace chatd::ctl {

namespace json = boost::json;
namespace po = boost::program_options;

namespace {

// 1990 → "19.90"; "-" when absent.
std::string yuan_text(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_int64()) return std::string(absent);
    char out[32];
    auto cents = v->get_int64();
    std::snprintf(out, sizeof out, "%lld.%02lld", static_cast<long long>(cents / 100),
                  static_cast<long long>(cents % 100));
    return out;
}

void show_plans_list(const json::value& result, const rpc_request&, std::ostream& out) {
    table plans({{"ID", align::right},
                 {"NAME"},
                 {"PRICE", align::right},
                 {"QUESTIONS", align::right},
                 {"DAYS", align::right},
                 {"ENABLED"},
                 {"SORT", align::right}});
    for (const auto& item : array_field(result, "items")) {
        const auto& p = object_of(item);
        plans.add_row({field_text(p, "id"), field_text(p, "name"), yuan_text(p, "price_cents"),
                       field_text(p, "questions"), field_text(p, "days"), field_text(p, "enabled"),
                       field_text(p, "sort")});
    }
    plans.print(out);
}

rpc_request build_plans_set(std::string_view method, const arguments& args) {
    po::options_description options;
    auto add = options.add_options();
    add("id", po::value<std::vector<std::string>>());
    add("name", po::value<std::string>());
    add("price", po::value<std::string>());
    add("questions", po::value<std::string>());
    add("days", po::value<std::string>());
    add("sort", po::value<std::string>());
    add("enable", po::bool_switch());
    add("disable", po::bool_switch());
    po::positional_options_description positional;
    positional.add("id", -1);
    auto given = parse_options(args, options, &positional);
    json::object params;
    if (given.count("id")) {
        auto ids = given["id"].as<std::vector<std::string>>();
        if (ids.size() > 1) throw usage_error("unexpected argument '" + ids[1] + "'");
        params["id"] = parse_id(ids[0]);
    }
    if (given.count("name")) params["name"] = given["name"].as<std::string>();
    if (given.count("price")) params["price_cents"] = parse_cents("price", given["price"].as<std::string>());
    for (const char* key : {"questions", "days", "sort"})
        if (given.count(key)) params[key] = parse_count(key, given[key].as<std::string>());
    if (given["enable"].as<bool>() && given["disable"].as<bool>())
        throw usage_error("--enable and --disable exclude each other");
    if (given["enable"].as<bool>()) params["enabled"] = true;
    if (given["disable"].as<bool>()) params["enabled"] = false;
    if (!params.contains("id"))
        for (const char* key : {"name", "price_cents", "questions", "days"})
            if (!params.contains(key)) throw usage_error("a new plan needs --name, --price, --questions and --days");
    return {std::string(method), std::move(params)};
}

void show_plans_set(const json::value& result, const rpc_request&, std::ostream& out) {
    const auto& p = object_of(result);
    out << "plan " << field_text(p, "id") << ": " << field_text(p, "name") << ", " << yuan_text(p, "price_cents")
        << " for " << field_text(p, "questions") << " questions over " << field_text(p, "days") << " days\n";
}

void show_plans_remove(const json::value&, const rpc_request& request, std::ostream& out) {
    out << say("removed plan {}", {param_text(request, "id")}) << '\n';
}

rpc_request build_orders_list(std::string_view method, const arguments& args) {
    po::options_description options;
    options.add_options()("status", po::value<std::string>())("user", po::value<std::string>())(
        "query", po::value<std::string>());
    add_page_options(options);
    auto given = parse_options(args, options);
    json::object params;
    if (given.count("status")) params["status"] = given["status"].as<std::string>();
    if (given.count("user")) params["user_id"] = parse_id(given["user"].as<std::string>());
    if (given.count("query")) params["query"] = given["query"].as<std::string>();
    put_page(params, given, 50);
    return {std::string(method), std::move(params)};
}

void add_order_row(table& orders, const json::object& o) {
    const auto& plan = object_field(o, "plan");
    orders.add_row({field_text(o, "order_no"), field_text(o, "status"), yuan_text(o, "amount_cents"),
                    field_text(o, "channel"), field_text(plan, "name"), field_text(o, "user_id"),
                    field_time(o, "created_at"), field_time(o, "paid_at")});
}

table order_table() {
    return table({{"ORDER_NO"},
                  {"STATUS"},
                  {"AMOUNT", align::right},
                  {"CHANNEL"},
                  {"PLAN"},
                  {"USER", align::right},
                  {"CREATED"},
                  {"PAID"}});
}

void show_orders_list(const json::value& result, const rpc_request&, std::ostream& out) {
    auto orders = order_table();
    for (const auto& item : array_field(result, "items")) add_order_row(orders, object_of(item));
    orders.print(out);
    show_next_page(result, out);
}

rpc_request with_order_no(std::string_view method, const arguments& args) {
    expect_arguments(args, {"ORDER_NO"}, 1);
    return {std::string(method), json::object{{"order_no", args[0]}}};
}

void show_order(const json::value& result, const rpc_request&, std::ostream& out) {
    const auto& o = object_of(result);
    auto orders = order_table();
    add_order_row(orders, o);
    orders.print(out);
    out << "trade_no: " << field_text(o, "trade_no") << "\nexpires: " << field_time(o, "expires_at") << '\n';
    const auto& events = array_field(result, "events");
    if (events.empty()) return;
    out << '\n';
    table said({{"AT"}, {"SOURCE"}, {"FROM"}, {"VERDICT"}, {"DETAIL"}});
    for (const auto& item : events) {
        const auto& e = object_of(item);
        said.add_row({field_time(e, "at"), field_text(e, "source"), field_text(e, "client_ip"),
                      field_text(e, "verdict"), field_text(e, "detail")});
    }
    said.print(out);
}

const command rows[] = {
    {"plans list", "admin.plans.list", "", "List the plans users can buy online, disabled ones too.",
     without_params, show_plans_list},
    {"plans set", "admin.plans.set",
     "[ID] [--name N] [--price YUAN] [--questions Q] [--days D] [--sort N] [--enable|--disable]",
     "Add a plan (without ID; needs --name, --price, --questions and --days) or change one. A paid\n"
     "order credits like a card: renewal accumulates and extends.",
     build_plans_set, show_plans_set},
    {"plans rm", "admin.plans.remove", "ID", "Remove a plan; orders already placed keep what they bought.",
     with_id, show_plans_remove},
    {"orders list", "admin.orders.list",
     "[--status pending|paid|closed] [--user ID] [--query TEXT] [--limit N] [--cursor CURSOR]",
     "List orders, newest first; TEXT matches part of an order number, a channel's trade number or a\n"
     "plan name.",
     build_orders_list, show_orders_list},
    {"orders show", "admin.orders.get", "ORDER_NO",
     "Show an order and everything its channel said about it (notifications, queries, closing).",
     with_order_no, show_order},
    {"orders sync", "admin.orders.sync", "ORDER_NO",
     "Ask the channel about a pending order now: credits it if paid, closes it if expired.", with_order_no,
     show_order},
};

}  // namespace

std::span<const command> pay_commands() { return rows; }

}  // namespace chatd::ctl
