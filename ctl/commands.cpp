#include "commands.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <charconv>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "errors.hpp"
#include "input.hpp"
#include "output.hpp"

namespace chatd::ctl {

namespace json = boost::json;
namespace po = boost::program_options;

namespace {

using arguments = std::vector<std::string>;

// Checks the number of positional arguments. `names` lists them in order; the
// first `required` of them must be present.
void expect_arguments(const arguments& args, std::initializer_list<std::string_view> names,
                      std::size_t required) {
    if (args.size() < required)
        throw usage_error("missing " + std::string(names.begin()[args.size()]));
    if (args.size() > names.size())
        throw usage_error("unexpected argument '" + args[names.size()] + "'");
}

std::int64_t parse_id(const std::string& text) {
    std::int64_t id = 0;
    const char* end = text.data() + text.size();
    auto [stop, ec] = std::from_chars(text.data(), end, id);
    if (ec != std::errc{} || stop != end || id <= 0)
        throw usage_error("ID must be a positive integer, not '" + text + "'");
    return id;
}

const json::object& object_of(const json::value& value) {
    static const json::object empty;
    const auto* object = value.if_object();
    return object ? *object : empty;
}

const json::array& array_field(const json::value& value, std::string_view key) {
    static const json::array empty;
    const auto* field = object_of(value).if_contains(key);
    const auto* array = field ? field->if_array() : nullptr;
    return array ? *array : empty;
}

// A nested object field, or an empty object (never a dangling temporary).
const json::object& object_field(const json::object& object, std::string_view key) {
    static const json::value none;
    const auto* field = object.if_contains(key);
    return object_of(field ? *field : none);
}

const json::object& params_of(const rpc_request& request) {
    static const json::object none;
    return request.params ? object_of(*request.params) : none;
}

std::string param_text(const rpc_request& request, std::string_view key) {
    return field_text(params_of(request), key);
}

rpc_request without_params(std::string_view method, const arguments& args) {
    expect_arguments(args, {}, 0);
    return {std::string(method), json::object{}};
}

rpc_request with_id(std::string_view method, const arguments& args) {
    expect_arguments(args, {"ID"}, 1);
    return {std::string(method), json::object{{"id", parse_id(args[0])}}};
}

void show_json(const json::value& result, const rpc_request&, std::ostream& out) {
    print_json(out, result);
}

// status

void show_status(const json::value& result, const rpc_request&, std::ostream& out) {
    for (const auto& [key, value] : object_of(result)) {
        if (key == "uptime_s" && value.is_number()) {
            out << "uptime: " << duration_text(static_cast<std::int64_t>(value.to_number<double>()))
                << '\n';
        } else if (key == "keys" && value.is_object()) {
            out << "keys:";
            const char* separator = " ";
            for (const auto& [status, count] : value.get_object()) {
                out << separator << text_of(count) << ' ' << std::string_view(status);
                separator = ", ";
            }
            out << '\n';
        } else {
            out << std::string_view(key) << ": " << text_of(value) << '\n';
        }
    }
}

// keys

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::string_view rest = text;
    while (true) {
        const auto comma = rest.find(',');
        const auto item = rest.substr(0, comma);
        const auto first = item.find_first_not_of(' ');
        if (first != std::string_view::npos)
            items.emplace_back(item.substr(first, item.find_last_not_of(' ') - first + 1));
        if (comma == std::string_view::npos) return items;
        rest.remove_prefix(comma + 1);
    }
}

rpc_request build_keys_add(std::string_view method, const arguments& args) {
    po::options_description options;
    auto add = options.add_options();
    add("base-url", po::value<std::string>());
    add("models", po::value<std::string>());
    add("note", po::value<std::string>());
    add("provider", po::value<std::string>());
    add("key", po::value<std::vector<std::string>>());
    po::positional_options_description positional;
    positional.add("key", -1);

    po::variables_map given;
    try {
        po::store(po::command_line_parser(args).options(options).positional(positional).run(),
                  given);
    } catch (const po::error& error) {
        throw usage_error(error.what());
    }

    std::vector<std::string> keys;
    if (given.count("key")) keys = given["key"].as<std::vector<std::string>>();
    if (keys.size() == 1 && keys.front() == "-") {
        keys = read_lines(std::cin);
        if (keys.empty()) throw usage_error("no keys on standard input");
    } else if (std::find(keys.begin(), keys.end(), "-") != keys.end()) {
        throw usage_error("'-' reads the keys from standard input and goes alone");
    }
    if (keys.empty()) throw usage_error("no keys given");

    json::object params{{"keys", json::value_from(keys)}};
    if (given.count("base-url")) params["base_url"] = given["base-url"].as<std::string>();
    if (given.count("models")) {
        const auto models = split_list(given["models"].as<std::string>());
        if (models.empty()) throw usage_error("--models names no model");
        params["models"] = json::value_from(models);
    }
    if (given.count("note")) params["note"] = given["note"].as<std::string>();
    if (given.count("provider")) params["provider"] = given["provider"].as<std::string>();
    return {std::string(method), std::move(params)};
}

void show_keys_add(const json::value& result, const rpc_request&, std::ostream& out) {
    const auto& ids = array_field(result, "ids");
    out << "added " << ids.size() << " key(s): ids";
    for (const auto& id : ids) out << ' ' << text_of(id);
    out << '\n';
}

void show_keys_list(const json::value& result, const rpc_request&, std::ostream& out) {
    table keys({{"ID", align::right},
                {"KEY"},
                {"STATUS"},
                {"REQUESTS", align::right},
                {"FAILURES", align::right},
                {"TOKENS_IN", align::right},
                {"TOKENS_OUT", align::right},
                {"LAST_USED"},
                {"BASE_URL"},
                {"REASON"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& key = object_of(item);
        keys.add_row({field_text(key, "id"), field_text(key, "masked"), field_text(key, "status"),
                      field_text(key, "requests"), field_text(key, "failures"),
                      field_text(key, "tokens_in"), field_text(key, "tokens_out"),
                      field_time(key, "last_used_at"), field_text(key, "base_url"),
                      field_text(key, "reason")});
    }
    keys.print(out);
}

void show_keys_remove(const json::value&, const rpc_request& request, std::ostream& out) {
    out << "removed key " << param_text(request, "id") << '\n';
}

void show_keys_enable(const json::value&, const rpc_request& request, std::ostream& out) {
    out << "enabled key " << param_text(request, "id") << '\n';
}

void show_keys_disable(const json::value&, const rpc_request& request, std::ostream& out) {
    out << "disabled key " << param_text(request, "id") << '\n';
}

rpc_request build_keys_test(std::string_view method, const arguments& args) {
    expect_arguments(args, {"ID"}, 0);
    json::object params;
    if (!args.empty()) params["id"] = parse_id(args[0]);
    return {std::string(method), std::move(params)};
}

void show_keys_test(const json::value& result, const rpc_request&, std::ostream& out) {
    table tests({{"ID", align::right}, {"RESULT"}, {"STATUS"}, {"REASON"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& t = object_of(item);
        const auto* ok = t.if_contains("ok");
        tests.add_row({field_text(t, "id"), ok && ok->is_bool() && ok->get_bool() ? "works" : "fails",
                       field_text(t, "status"), field_text(t, "reason")});
    }
    tests.print(out);
}

void show_keys_history(const json::value& result, const rpc_request&, std::ostream& out) {
    table events({{"AT"}, {"STATUS"}, {"REASON"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& e = object_of(item);
        events.add_row({field_time(e, "at"), field_text(e, "status"), field_text(e, "reason")});
    }
    events.print(out);
}

rpc_request build_keys_balance(std::string_view method, const arguments& args) {
    expect_arguments(args, {"ID"}, 0);
    json::object params;
    if (!args.empty()) params["id"] = parse_id(args[0]);
    return {std::string(method), std::move(params)};
}

void show_keys_balance(const json::value& result, const rpc_request&, std::ostream& out) {
    table balances({{"ID", align::right}, {"PROVIDER"}, {"BALANCE", align::right}, {"CURRENCY"}, {"ERROR"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& b = object_of(item);
        balances.add_row({field_text(b, "id"), field_text(b, "provider"), field_text(b, "balance"),
                          field_text(b, "currency"), field_text(b, "error")});
    }
    balances.print(out);
}

// models

void show_models_list(const json::value& result, const rpc_request&, std::ostream& out) {
    table models({{"ID"},
                  {"NAME"},
                  {"UPSTREAM_MODEL"},
                  {"COST", align::right},
                  {"MAX_MESSAGES", align::right},
                  {"MAX_CHARS", align::right},
                  {"ENABLED"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& m = object_of(item);
        models.add_row({field_text(m, "id"), field_text(m, "name"), field_text(m, "upstream_model"),
                        field_text(m, "cost"), field_text(m, "max_messages"),
                        field_text(m, "max_context_chars"), field_text(m, "enabled")});
    }
    models.print(out);
}

std::int64_t parse_count(const std::string& option, const std::string& text) {
    std::int64_t n = 0;
    const char* end = text.data() + text.size();
    auto [stop, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc{} || stop != end || n < 0)
        throw usage_error("--" + option + " must be a whole number, not '" + text + "'");
    return n;
}

rpc_request build_models_set(std::string_view method, const arguments& args) {
    po::options_description options;
    auto add = options.add_options();
    add("name", po::value<std::string>());
    add("upstream-model", po::value<std::string>());
    for (const char* n : {"cost", "max-messages", "max-context-chars", "sort"}) add(n, po::value<std::string>());
    add("enable", po::bool_switch());
    add("disable", po::bool_switch());
    add("id", po::value<std::vector<std::string>>());
    po::positional_options_description positional;
    positional.add("id", -1);
    po::variables_map given;
    try {
        po::store(po::command_line_parser(args).options(options).positional(positional).run(), given);
    } catch (const po::error& error) {
        throw usage_error(error.what());
    }
    auto ids = given.count("id") ? given["id"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (ids.size() != 1) throw usage_error(ids.empty() ? "missing ID" : "unexpected argument '" + ids[1] + "'");
    if (given["enable"].as<bool>() && given["disable"].as<bool>())
        throw usage_error("--enable and --disable exclude each other");
    json::object params{{"id", ids[0]}};
    if (given.count("name")) params["name"] = given["name"].as<std::string>();
    if (given.count("upstream-model")) params["upstream_model"] = given["upstream-model"].as<std::string>();
    for (auto [option, key] : {std::pair{"cost", "cost"}, {"max-messages", "max_messages"},
                               {"max-context-chars", "max_context_chars"}, {"sort", "sort"}})
        if (given.count(option)) params[key] = parse_count(option, given[option].as<std::string>());
    if (given["enable"].as<bool>()) params["enabled"] = true;
    if (given["disable"].as<bool>()) params["enabled"] = false;
    return {std::string(method), std::move(params)};
}

void show_models_set(const json::value& result, const rpc_request&, std::ostream& out) {
    const auto& m = object_of(result);
    out << "model " << field_text(m, "id") << ": " << field_text(m, "name") << " -> "
        << field_text(m, "upstream_model") << ", cost " << field_text(m, "cost") << '\n';
}

rpc_request build_models_remove(std::string_view method, const arguments& args) {
    expect_arguments(args, {"ID"}, 1);
    return {std::string(method), json::object{{"id", args[0]}}};
}

void show_models_remove(const json::value&, const rpc_request& request, std::ostream& out) {
    out << "removed model " << param_text(request, "id") << '\n';
}

// roles and preset questions

void show_roles_list(const json::value& result, const rpc_request&, std::ostream& out) {
    table roles({{"ID", align::right}, {"NAME"}, {"ENABLED"}, {"SORT", align::right}, {"DESCRIPTION"}, {"PROMPT"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& r = object_of(item);
        std::string prompt = field_text(r, "prompt");
        if (prompt.size() > 60) prompt = prompt.substr(0, 57) + "...";
        for (auto& c : prompt)
            if (c == '\n') c = ' ';
        roles.add_row({field_text(r, "id"), field_text(r, "name"), field_text(r, "enabled"), field_text(r, "sort"),
                       field_text(r, "description"), prompt});
    }
    roles.print(out);
}

rpc_request build_roles_set(std::string_view method, const arguments& args) {
    po::options_description options;
    auto add = options.add_options();
    add("id", po::value<std::string>());
    add("name", po::value<std::string>());
    add("description", po::value<std::string>());
    add("prompt", po::value<std::string>());
    add("sort", po::value<std::string>());
    add("enable", po::bool_switch());
    add("disable", po::bool_switch());
    po::variables_map given;
    try {
        po::store(po::command_line_parser(args).options(options).run(), given);
    } catch (const po::error& error) {
        throw usage_error(error.what());
    }
    json::object params;
    if (given.count("id")) params["id"] = parse_id(given["id"].as<std::string>());
    for (const char* key : {"name", "description"})
        if (given.count(key)) params[key] = given[key].as<std::string>();
    if (given.count("prompt")) {
        auto prompt = given["prompt"].as<std::string>();
        params["prompt"] = prompt == "-" ? read_all(std::cin) : prompt;
    }
    if (given.count("sort")) params["sort"] = parse_count("sort", given["sort"].as<std::string>());
    if (given["enable"].as<bool>() && given["disable"].as<bool>())
        throw usage_error("--enable and --disable exclude each other");
    if (given["enable"].as<bool>()) params["enabled"] = true;
    if (given["disable"].as<bool>()) params["enabled"] = false;
    if (!params.contains("id") && (!params.contains("name") || !params.contains("prompt")))
        throw usage_error("a new role needs --name and --prompt");
    return {std::string(method), std::move(params)};
}

void show_roles_set(const json::value& result, const rpc_request&, std::ostream& out) {
    const auto& r = object_of(result);
    out << "role " << field_text(r, "id") << ": " << field_text(r, "name") << '\n';
}

void show_roles_remove(const json::value&, const rpc_request& request, std::ostream& out) {
    out << "removed role " << param_text(request, "id") << '\n';
}

void show_presets_list(const json::value& result, const rpc_request&, std::ostream& out) {
    table presets({{"ID", align::right}, {"SORT", align::right}, {"TEXT"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& p = object_of(item);
        presets.add_row({field_text(p, "id"), field_text(p, "sort"), field_text(p, "text")});
    }
    presets.print(out);
}

rpc_request build_presets_add(std::string_view method, const arguments& args) {
    expect_arguments(args, {"TEXT", "SORT"}, 1);
    json::object params{{"text", args[0]}};
    if (args.size() > 1) params["sort"] = parse_count("sort", args[1]);
    return {std::string(method), std::move(params)};
}

void show_presets_add(const json::value& result, const rpc_request&, std::ostream& out) {
    out << "preset " << field_text(object_of(result), "id") << " added\n";
}

void show_presets_remove(const json::value&, const rpc_request& request, std::ostream& out) {
    out << "removed preset " << param_text(request, "id") << '\n';
}

// cards

// How `cards generate` and `cards export` print the cards; set while building the request.
std::string card_format = "txt";

std::string parse_format(const po::variables_map& given) {
    std::string f = given.count("format") ? given["format"].as<std::string>() : "txt";
    if (f != "txt" && f != "csv" && f != "json") throw usage_error("--format must be csv, txt or json");
    return f;
}

// YYYY-MM-DD (the end of that day, local time) or Unix seconds.
std::int64_t parse_date(const std::string& text) {
    std::tm tm{};
    if (text.size() == 10 && strptime(text.c_str(), "%Y-%m-%d", &tm)) {
        tm.tm_hour = 23;
        tm.tm_min = 59;
        tm.tm_sec = 59;
        tm.tm_isdst = -1;
        return static_cast<std::int64_t>(std::mktime(&tm));
    }
    return parse_count("redeem-before", text);
}

po::variables_map parse_options(const arguments& args, const po::options_description& options,
                                const po::positional_options_description* positional = nullptr) {
    po::variables_map given;
    try {
        auto parser = po::command_line_parser(args).options(options);
        if (positional) parser.positional(*positional);
        po::store(parser.run(), given);
    } catch (const po::error& error) {
        throw usage_error(error.what());
    }
    return given;
}

// The daemon caps a page, so list commands take --cursor to go on where the
// previous page ended, as well as --limit.
void add_page_options(po::options_description& options) {
    auto add = options.add_options();
    add("limit", po::value<std::string>());
    add("cursor", po::value<std::string>());
}

void put_page(json::object& params, const po::variables_map& given, std::int64_t default_limit) {
    params["limit"] = given.count("limit") ? parse_count("limit", given["limit"].as<std::string>())
                                           : default_limit;
    if (given.count("cursor")) params["cursor"] = given["cursor"].as<std::string>();
}

// Printed after a list, so a person sees that it goes on and how to get the rest.
void show_next_page(const json::value& result, std::ostream& out) {
    const auto* next = object_of(result).if_contains("next_cursor");
    if (next && !next->is_null()) out << "more: --cursor " << text_of(*next) << '\n';
}

// `defaults` supplies batch and redeem_before where the cards themselves do not carry them
// (admin.cards.generate states them once for the whole batch).
void print_cards(const json::array& cards, const json::object& defaults, std::ostream& out) {
    auto field = [&](const json::object& c, std::string_view key) -> const json::value& {
        static const json::value none;
        if (const auto* v = c.if_contains(key)) return *v;
        if (const auto* v = defaults.if_contains(key)) return *v;
        return none;
    };
    if (card_format == "json") {
        json::array rows;
        for (const auto& item : cards) {
            const auto& c = object_of(item);
            rows.push_back(json::object{{"code", field(c, "code")}, {"questions", field(c, "questions")},
                                        {"days", field(c, "days")}, {"batch", field(c, "batch")},
                                        {"redeem_before", field(c, "redeem_before")}});
        }
        print_json(out, rows);
        return;
    }
    if (card_format == "csv") out << "code,questions,days,batch,redeem_before\n";
    for (const auto& item : cards) {
        const auto& c = object_of(item);
        out << text_of(field(c, "code"));
        if (card_format == "csv") {
            const auto& rb = field(c, "redeem_before");
            out << ',' << text_of(field(c, "questions")) << ',' << text_of(field(c, "days")) << ','
                << text_of(field(c, "batch")) << ',' << (rb.is_null() ? std::string() : text_of(rb));
        }
        out << '\n';
    }
}

rpc_request build_cards_generate(std::string_view method, const arguments& args) {
    po::options_description options;
    auto add = options.add_options();
    for (const char* n : {"count", "questions", "days", "batch", "redeem-before", "format"}) add(n, po::value<std::string>());
    auto given = parse_options(args, options);
    for (const char* n : {"count", "questions", "days"})
        if (!given.count(n)) throw usage_error(std::string("missing --") + n);
    json::object params{{"count", parse_count("count", given["count"].as<std::string>())},
                        {"questions", parse_count("questions", given["questions"].as<std::string>())},
                        {"days", parse_count("days", given["days"].as<std::string>())}};
    if (given.count("batch")) params["batch"] = given["batch"].as<std::string>();
    if (given.count("redeem-before")) params["redeem_before"] = parse_date(given["redeem-before"].as<std::string>());
    card_format = parse_format(given);
    return {std::string(method), std::move(params)};
}

void show_cards_generate(const json::value& result, const rpc_request&, std::ostream& out) {
    print_cards(array_field(result, "cards"), object_of(result), out);
}

rpc_request build_cards_export(std::string_view method, const arguments& args) {
    po::options_description options;
    auto add = options.add_options();
    for (const char* n : {"batch", "status", "format"}) add(n, po::value<std::string>());
    auto given = parse_options(args, options);
    if (!given.count("batch")) throw usage_error("missing --batch");
    json::object params{{"batch", given["batch"].as<std::string>()}, {"limit", 100000}};
    if (given.count("status")) params["status"] = given["status"].as<std::string>();
    card_format = parse_format(given);
    return {std::string(method), std::move(params)};
}

void show_cards_export(const json::value& result, const rpc_request&, std::ostream& out) {
    print_cards(array_field(result, "items"), json::object{}, out);
}

rpc_request build_cards_list(std::string_view method, const arguments& args) {
    po::options_description options;
    auto add = options.add_options();
    for (const char* n : {"batch", "status"}) add(n, po::value<std::string>());
    add_page_options(options);
    auto given = parse_options(args, options);
    json::object params;
    if (given.count("batch")) params["batch"] = given["batch"].as<std::string>();
    if (given.count("status")) params["status"] = given["status"].as<std::string>();
    put_page(params, given, 1000);
    return {std::string(method), std::move(params)};
}

void show_cards_list(const json::value& result, const rpc_request&, std::ostream& out) {
    table cards({{"CODE"}, {"BATCH"}, {"QUESTIONS", align::right}, {"DAYS", align::right}, {"STATUS"},
                 {"REDEEMED_BY", align::right}, {"REDEEMED_AT"}, {"REDEEM_BEFORE"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& c = object_of(item);
        cards.add_row({field_text(c, "code"), field_text(c, "batch"), field_text(c, "questions"), field_text(c, "days"),
                       field_text(c, "status"), field_text(c, "redeemed_by"), field_time(c, "redeemed_at"),
                       field_time(c, "redeem_before")});
    }
    cards.print(out);
    show_next_page(result, out);
}

void show_cards_batches(const json::value& result, const rpc_request&, std::ostream& out) {
    table batches({{"BATCH"}, {"COUNT", align::right}, {"UNUSED", align::right}, {"USED", align::right},
                   {"REVOKED", align::right}, {"EXPIRED", align::right}, {"QUESTIONS", align::right},
                   {"DAYS", align::right}, {"CREATED"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& b = object_of(item);
        batches.add_row({field_text(b, "batch"), field_text(b, "count"), field_text(b, "unused"), field_text(b, "used"),
                         field_text(b, "revoked"), field_text(b, "expired"), field_text(b, "questions"),
                         field_text(b, "days"), field_time(b, "created_at")});
    }
    batches.print(out);
}

rpc_request build_cards_revoke(std::string_view method, const arguments& args) {
    po::options_description options;
    auto add = options.add_options();
    add("batch", po::value<std::string>());
    add("code", po::value<std::vector<std::string>>());
    po::positional_options_description positional;
    positional.add("code", -1);
    auto given = parse_options(args, options, &positional);
    json::object params;
    if (given.count("code")) params["codes"] = json::value_from(given["code"].as<std::vector<std::string>>());
    if (given.count("batch")) params["batch"] = given["batch"].as<std::string>();
    if (params.empty()) throw usage_error("give card codes or --batch NAME");
    return {std::string(method), std::move(params)};
}

void show_cards_revoke(const json::value& result, const rpc_request&, std::ostream& out) {
    out << "revoked " << field_text(object_of(result), "revoked") << " card(s)\n";
}

// users

rpc_request build_users_list(std::string_view method, const arguments& args) {
    po::options_description options;
    auto add = options.add_options();
    add("query", po::value<std::string>());
    add_page_options(options);
    auto given = parse_options(args, options);
    json::object params;
    if (given.count("query")) params["query"] = given["query"].as<std::string>();
    put_page(params, given, 100);
    return {std::string(method), std::move(params)};
}

void show_users_list(const json::value& result, const rpc_request&, std::ostream& out) {
    table users({{"ID", align::right}, {"NAME"}, {"TRIAL", align::right}, {"PAID", align::right},
                 {"PAID_EXPIRES"}, {"ADMIN"}, {"BANNED"}, {"CREATED"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& u = object_of(item);
        const auto& b = object_field(u, "balance");
        users.add_row({field_text(u, "id"), field_text(u, "name"), field_text(b, "trial"), field_text(b, "paid"),
                       field_time(b, "paid_expires_at"), field_text(u, "is_admin"), field_text(u, "banned"),
                       field_time(u, "created_at")});
    }
    users.print(out);
    show_next_page(result, out);
}

void show_users_show(const json::value& result, const rpc_request&, std::ostream& out) {
    const auto& u = object_of(result);
    const auto& b = object_field(u, "balance");
    out << "id: " << field_text(u, "id") << "\nname: " << field_text(u, "name") << "\ntrial: " << field_text(b, "trial")
        << "\npaid: " << field_text(b, "paid") << "\npaid_expires_at: " << field_time(b, "paid_expires_at")
        << "\nbanned: " << field_text(u, "banned") << "\ninvited_by: " << field_text(u, "invited_by")
        << "\ncreated_at: " << field_time(u, "created_at") << "\n\n";
    table ledger({{"AT"}, {"TRIAL", align::right}, {"PAID", align::right}, {"REASON"}, {"REF"}});
    for (const auto& item : array_field(result, "ledger")) {
        const auto& l = object_of(item);
        ledger.add_row({field_time(l, "at"), field_text(l, "delta_trial"), field_text(l, "delta_paid"),
                        field_text(l, "reason"), field_text(l, "ref")});
    }
    ledger.print(out);
}

// Signed whole number (grants may deduct).
std::int64_t parse_signed(const std::string& option, const std::string& text) {
    std::int64_t n = 0;
    const char* end = text.data() + text.size();
    auto [stop, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc{} || stop != end) throw usage_error("--" + option + " must be a whole number, not '" + text + "'");
    return n;
}

rpc_request build_users_grant(std::string_view method, const arguments& args) {
    po::options_description options;
    auto add = options.add_options();
    for (const char* n : {"questions", "days", "bucket"}) add(n, po::value<std::string>());
    add("id", po::value<std::vector<std::string>>());
    po::positional_options_description positional;
    positional.add("id", -1);
    // Negative numbers are values here, not options.
    po::variables_map given;
    try {
        po::store(po::command_line_parser(args).options(options).positional(positional)
                      .style(po::command_line_style::default_style ^ po::command_line_style::allow_guessing)
                      .run(),
                  given);
    } catch (const po::error& error) {
        throw usage_error(error.what());
    }
    auto ids = given.count("id") ? given["id"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (ids.size() != 1) throw usage_error(ids.empty() ? "missing ID" : "unexpected argument '" + ids[1] + "'");
    if (!given.count("questions")) throw usage_error("missing --questions");
    json::object params{{"id", parse_id(ids[0])},
                        {"questions", parse_signed("questions", given["questions"].as<std::string>())}};
    if (given.count("days")) params["days"] = parse_count("days", given["days"].as<std::string>());
    if (given.count("bucket")) params["bucket"] = given["bucket"].as<std::string>();
    return {std::string(method), std::move(params)};
}

void show_users_grant(const json::value& result, const rpc_request& request, std::ostream& out) {
    const auto& b = object_field(object_of(result), "balance");
    out << "user " << param_text(request, "id") << ": trial " << field_text(b, "trial") << ", paid "
        << field_text(b, "paid") << " until " << field_time(b, "paid_expires_at") << '\n';
}

void show_users_ban(const json::value&, const rpc_request& request, std::ostream& out) {
    out << "banned user " << param_text(request, "id") << '\n';
}

void show_users_unban(const json::value&, const rpc_request& request, std::ostream& out) {
    out << "unbanned user " << param_text(request, "id") << '\n';
}

// operations: logs, stats, audit

rpc_request build_logs(std::string_view method, const arguments& args) {
    po::options_description options;
    auto add = options.add_options();
    for (const char* n : {"user", "query"}) add(n, po::value<std::string>());
    add_page_options(options);
    auto given = parse_options(args, options);
    json::object params;
    if (given.count("user")) params["user_id"] = parse_id(given["user"].as<std::string>());
    if (given.count("query")) params["query"] = given["query"].as<std::string>();
    put_page(params, given, 100);
    return {std::string(method), std::move(params)};
}

void show_logs(const json::value& result, const rpc_request&, std::ostream& out) {
    table logs({{"ID", align::right}, {"USER", align::right}, {"NAME"}, {"MODEL"}, {"UPDATED"}, {"DELETED"}, {"TITLE"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& c = object_of(item);
        logs.add_row({field_text(c, "id"), field_text(c, "user_id"), field_text(c, "user_name"), field_text(c, "model"),
                      field_time(c, "updated_at"), field_time(c, "deleted_at"), field_text(c, "title")});
    }
    logs.print(out);
    show_next_page(result, out);
}

// Each line of `text` indented, so message bodies stand apart from their headers.
void print_indented(std::ostream& out, std::string_view text) {
    while (!text.empty()) {
        const auto end = text.find('\n');
        out << "  " << text.substr(0, end) << '\n';
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    }
}

// The messages from the first question down to `leaf`, oldest first: the branch the
// user last looked at. Regenerated answers and edited questions fork the tree.
std::vector<const json::object*> branch_to(const json::array& messages, const json::value& leaf) {
    std::map<std::int64_t, const json::object*> by_id;
    for (const auto& item : messages)
        if (const auto* id = object_of(item).if_contains("id"); id && id->is_int64())
            by_id[id->get_int64()] = &item.get_object();
    std::vector<const json::object*> branch;
    const json::value* next = &leaf;
    // Bounded by the message count, so a malformed parent chain cannot loop.
    while (next->is_int64() && branch.size() < by_id.size()) {
        const auto found = by_id.find(next->get_int64());
        if (found == by_id.end()) break;
        branch.push_back(found->second);
        next = found->second->if_contains("parent_id");
        if (!next) break;
    }
    std::reverse(branch.begin(), branch.end());
    return branch;
}

// Branches other than `branch`: the messages nothing follows (the tips of the
// branches) that are not on it.
std::size_t count_other_branches(const json::array& messages,
                                 const std::vector<const json::object*>& branch) {
    std::set<std::int64_t> parents;
    for (const auto& item : messages)
        if (const auto* parent = object_of(item).if_contains("parent_id");
            parent && parent->is_int64())
            parents.insert(parent->get_int64());
    std::size_t tips = 0;
    for (const auto& item : messages) {
        const auto* id = object_of(item).if_contains("id");
        const bool on_branch =
            std::find(branch.begin(), branch.end(), item.if_object()) != branch.end();
        if (id && id->is_int64() && !parents.contains(id->get_int64()) && !on_branch) ++tips;
    }
    return tips;
}

void show_conversation(const json::value& result, const rpc_request&, std::ostream& out) {
    const auto& c = object_of(result);
    const std::string title = field_text(c, "title");
    out << "conversation " << field_text(c, "id") << ": " << (title.empty() ? "(untitled)" : title)
        << "\nuser: " << field_text(c, "user_id") << " (" << field_text(c, "user_name") << ")"
        << "\nmodel: " << field_text(c, "model") << "\ncreated: " << field_time(c, "created_at")
        << "\nupdated: " << field_time(c, "updated_at") << '\n';
    if (const auto* deleted = c.if_contains("deleted_at"); deleted && !deleted->is_null())
        out << "deleted by the user: " << field_time(c, "deleted_at") << '\n';
    if (const auto* prompt = c.if_contains("system_prompt");
        prompt && prompt->is_string() && !prompt->get_string().empty()) {
        out << "system prompt:\n";
        print_indented(out, prompt->get_string());
    }

    const auto& messages = array_field(result, "messages");
    static const json::value no_leaf;
    const auto* leaf = c.if_contains("current_leaf_id");
    // Without a recorded leaf the newest message ends the branch shown.
    if ((!leaf || leaf->is_null()) && !messages.empty())
        leaf = object_of(messages.back()).if_contains("id");
    const auto branch = branch_to(messages, leaf ? *leaf : no_leaf);
    for (const auto* message : branch) {
        const auto role = field_text(*message, "role");
        out << '\n' << role << " (#" << field_text(*message, "id");
        if (role == "assistant")
            out << ", " << field_text(*message, "model") << ", " << field_text(*message, "status");
        out << ", " << field_time(*message, "created_at") << "):\n";
        if (const auto* content = message->if_contains("content"); content && content->is_string())
            print_indented(out, content->get_string());
        const auto& error = object_field(*message, "error");
        if (!error.empty())
            out << "  error: " << field_text(error, "reason") << ": "
                << field_text(error, "message") << '\n';
    }
    if (const auto hidden = messages.size() - branch.size(); hidden > 0) {
        const auto branches = count_other_branches(messages, branch);
        out << "\nnot shown: " << branches
            << (branches == 1 ? " other branch, " : " other branches, ") << hidden
            << (hidden == 1 ? " message" : " messages") << " (--json prints every message)\n";
    }
}

rpc_request build_stats(std::string_view method, const arguments& args) {
    po::options_description options;
    options.add_options()("days", po::value<std::string>());
    auto given = parse_options(args, options);
    json::object params;
    if (given.count("days")) params["days"] = parse_count("days", given["days"].as<std::string>());
    return {std::string(method), std::move(params)};
}

void show_stats(const json::value& result, const rpc_request&, std::ostream& out) {
    table days({{"DATE"}, {"QUESTIONS", align::right}, {"NEW_USERS", align::right}, {"ACTIVE", align::right},
                {"REDEEMED", align::right}, {"SOLD", align::right}, {"TTFT_P50", align::right}, {"TTFT_P95", align::right}});
    for (const auto& item : array_field(result, "days")) {
        const auto& d = object_of(item);
        days.add_row({field_text(d, "date"), field_text(d, "questions"), field_text(d, "new_users"),
                      field_text(d, "active_users"), field_text(d, "redemptions"), field_text(d, "credits_sold"),
                      field_text(d, "first_token_p50_ms"), field_text(d, "first_token_p95_ms")});
    }
    days.print(out);
}

rpc_request build_audit(std::string_view method, const arguments& args) {
    po::options_description options;
    add_page_options(options);
    auto given = parse_options(args, options);
    json::object params;
    put_page(params, given, 100);
    return {std::string(method), std::move(params)};
}

void show_audit(const json::value& result, const rpc_request&, std::ostream& out) {
    table audit({{"AT"}, {"ACTOR"}, {"VIA"}, {"METHOD"}, {"PARAMS"}, {"CHANGE"}});
    auto json_or_dash = [](const json::object& o, std::string_view key) {
        const auto* v = o.if_contains(key);
        return v && !v->is_null() ? json::serialize(*v) : std::string("-");
    };
    for (const auto& item : array_field(result, "items")) {
        const auto& a = object_of(item);
        auto via = field_text(a, "via");
        if (const auto* address = a.if_contains("address"); address && address->is_string())
            via += " " + std::string(address->get_string());
        auto before = json_or_dash(a, "before"), after = json_or_dash(a, "after");
        auto change = before == "-" ? after : before + " -> " + after;
        audit.add_row({field_time(a, "at"), field_text(a, "actor"), via, field_text(a, "method"),
                       json_or_dash(a, "params"), change});
    }
    audit.print(out);
    show_next_page(result, out);
}

// admin

rpc_request build_admin_add(std::string_view method, const arguments& args) {
    expect_arguments(args, {"USERNAME"}, 1);
    if (args[0].empty()) throw usage_error("empty USERNAME");
    return {std::string(method),
            json::object{{"username", args[0]}, {"password", read_new_password(args[0])}}};
}

void show_admin_add(const json::value& result, const rpc_request& request, std::ostream& out) {
    out << "added admin " << param_text(request, "username") << " (id "
        << field_text(object_of(result), "id") << ")\n";
}

// settings

rpc_request build_settings_get(std::string_view method, const arguments& args) {
    expect_arguments(args, {"KEY"}, 0);
    json::object params;
    if (!args.empty()) params["key"] = args[0];
    return {std::string(method), std::move(params)};
}

void show_settings_get(const json::value& result, const rpc_request& request, std::ostream& out) {
    const auto& settings = object_of(result);
    const auto* key = params_of(request).if_contains("key");
    // One setting is printed bare, so `settings get K > file` and
    // `settings set K - < file` round-trip.
    if (key && settings.size() == 1 && settings.contains(key->get_string())) {
        out << text_of(settings.at(key->get_string())) << '\n';
        return;
    }
    print_fields(out, settings);
}

rpc_request build_settings_set(std::string_view method, const arguments& args) {
    expect_arguments(args, {"KEY", "VALUE"}, 2);
    const std::string value = args[1] == "-" ? read_all(std::cin) : args[1];
    return {std::string(method), json::object{{"key", args[0]}, {"value", value}}};
}

void show_settings_set(const json::value&, const rpc_request& request, std::ostream& out) {
    out << "set " << param_text(request, "key") << '\n';
}

// backup

rpc_request build_backup(std::string_view method, const arguments& args) {
    expect_arguments(args, {"FILE"}, 1);
    if (args[0].empty()) throw usage_error("empty FILE");
    // The daemon writes the file, and its working directory is not ours.
    const auto path = std::filesystem::absolute(args[0]).lexically_normal();
    return {std::string(method), json::object{{"path", path.string()}}};
}

void show_backup(const json::value& result, const rpc_request& request, std::ostream& out) {
    out << "wrote " << field_text(object_of(result), "bytes") << " bytes to "
        << param_text(request, "path") << '\n';
}

// call, methods

rpc_request build_call(std::string_view, const arguments& args) {
    expect_arguments(args, {"METHOD", "JSON"}, 1);
    if (args[0].empty()) throw usage_error("empty METHOD");
    if (args.size() == 1) return {args[0], std::nullopt};
    boost::system::error_code ec;
    json::value params = json::parse(args[1], ec);
    if (ec) throw usage_error("JSON does not parse: " + ec.message());
    if (!params.is_object() && !params.is_array())
        throw usage_error("JSON must be an object or an array");
    return {args[0], std::move(params)};
}

void show_methods(const json::value& result, const rpc_request&, std::ostream& out) {
    for (const auto& method : array_field(result, "methods")) out << text_of(method) << '\n';
}

const command commands[] = {
    {"status", "admin.status", "",
     "Show the daemon's version, uptime, counters and key health.\n"
     "Counts users, conversations and answers in flight, and the upstream keys by\n"
     "status: active, cooling, invalid and disabled.",
     without_params, show_status},
    {"keys add", "admin.keys.add",
     "[--base-url URL] [--models A,B] [--note TEXT] "
     "[--provider openai|deepseek|openrouter|siliconflow|moonshot] KEY...",
     "Add upstream API keys to the pool and print their ids.\n"
     "With a single '-' instead of keys, read them from standard input, one per line\n"
     "(blank lines and surrounding spaces are ignored). --base-url defaults to\n"
     "upstream.base_url; --models limits a key to those models; --provider (default\n"
     "openai) picks the balance endpoint.",
     build_keys_add, show_keys_add},
    {"keys list", "admin.keys.list", "",
     "List the upstream keys, masked, with their status and usage counters.", without_params,
     show_keys_list},
    {"keys rm", "admin.keys.remove", "ID", "Remove an upstream key from the pool.", with_id,
     show_keys_remove},
    {"keys enable", "admin.keys.enable", "ID", "Put a disabled or invalid key back into rotation.",
     with_id, show_keys_enable},
    {"keys disable", "admin.keys.disable", "ID", "Take a key out of rotation without removing it.",
     with_id, show_keys_disable},
    {"keys test", "admin.keys.test", "[ID]",
     "Test a key (GET /models), or without ID every invalid key; a key that works returns to\n"
     "the pool, one the provider refuses is marked invalid.",
     build_keys_test, show_keys_test},
    {"keys history", "admin.keys.history", "ID",
     "Show a key's status changes, newest first (evicted, cooling, back to active).", with_id,
     show_keys_history},
    {"keys balance", "admin.keys.balance", "[ID]",
     "Ask the providers for the balance of every key, or of one. Available for deepseek,\n"
     "openrouter, siliconflow and moonshot keys; never changes a key's status.",
     build_keys_balance, show_keys_balance},
    {"models list", "admin.models.list", "",
     "List the models users can pick, with their credit cost and context budget.", without_params,
     show_models_list},
    {"models set", "admin.models.set",
     "ID [--name TEXT] [--upstream-model NAME] [--cost N] [--max-messages N] "
     "[--max-context-chars N] [--sort N] [--enable|--disable]",
     "Add a model or change one. ID is what users pick; --upstream-model is the name sent\n"
     "upstream (default: ID). --cost is the credits one question costs; --max-messages and\n"
     "--max-context-chars bound the conversation context sent with each question.",
     build_models_set, show_models_set},
    {"models rm", "admin.models.remove", "ID", "Remove a model.", build_models_remove,
     show_models_remove},
    {"roles list", "admin.roles.list", "",
     "List the roles (system prompts users pick per conversation).", without_params,
     show_roles_list},
    {"roles set", "admin.roles.set",
     "[--id ID] [--name TEXT] [--description TEXT] [--prompt TEXT|-] [--sort N] "
     "[--enable|--disable]",
     "Add a role (without --id; needs --name and --prompt) or change one.\n"
     "--prompt - reads the system prompt from standard input.",
     build_roles_set, show_roles_set},
    {"roles rm", "admin.roles.remove", "ID", "Remove a role.", with_id, show_roles_remove},
    {"presets list", "admin.presets.list", "", "List the preset questions shown on an empty chat.",
     without_params, show_presets_list},
    {"presets add", "admin.presets.set", "TEXT [SORT]",
     "Add a preset question (lower SORT shows first).", build_presets_add, show_presets_add},
    {"presets rm", "admin.presets.remove", "ID", "Remove a preset question.", with_id,
     show_presets_remove},
    {"cards generate", "admin.cards.generate",
     "--count N --questions Q --days D [--batch NAME] [--redeem-before DATE] "
     "[--format csv|txt|json]",
     "Generate a batch of recharge cards and print them (txt: one code per line).\n"
     "A redeemed card adds Q paid questions valid for D days (renewing while paid credits\n"
     "are valid). DATE is YYYY-MM-DD (end of that day) or Unix seconds. csv has the header\n"
     "code,questions,days,batch,redeem_before; json is an array of objects with those keys.",
     build_cards_generate, show_cards_generate},
    {"cards list", "admin.cards.list",
     "[--batch NAME] [--status unused|used|revoked|expired] [--limit N] [--cursor CODE]",
     "List cards with their status and who redeemed them.", build_cards_list, show_cards_list},
    {"cards batches", "admin.cards.batches", "", "List the card batches with counts by status.",
     without_params, show_cards_batches},
    {"cards export", "admin.cards.list",
     "--batch NAME [--status unused|used|revoked|expired] [--format csv|txt|json]",
     "Print a batch's cards in a format for card shops (as cards generate does).",
     build_cards_export, show_cards_export},
    {"cards revoke", "admin.cards.revoke", "(CODE...|--batch NAME)",
     "Revoke unused cards, by code or a whole batch.", build_cards_revoke, show_cards_revoke},
    {"users list", "admin.users.list", "[--query Q] [--limit N] [--cursor CURSOR]",
     "List users, newest first, with their balance; Q matches id, username or name.",
     build_users_list, show_users_list},
    {"users show", "admin.users.get", "ID", "Show a user's balance and ledger.", with_id,
     show_users_show},
    {"users grant", "admin.users.grant", "ID --questions N [--days D] [--bucket paid|trial]",
     "Grant questions (a negative N deducts). Trial credits never expire; paid ones need a valid\n"
     "expiry or --days D, which renews like a recharge card. The bucket defaults to paid with\n"
     "--days and to trial without.",
     build_users_grant, show_users_grant},
    {"users ban", "admin.users.ban", "ID", "Ban a user: their sessions end and they cannot log in.",
     with_id, show_users_ban},
    {"users unban", "admin.users.unban", "ID", "Lift a ban.", with_id, show_users_unban},
    {"logs", "admin.conversations.list", "[--user ID] [--query Q] [--limit N] [--cursor CURSOR]",
     "List every user's conversations, newest first (deleted ones too); read one with\n"
     "'chatctl logs show ID'.",
     build_logs, show_logs},
    {"logs show", "admin.conversations.get", "ID",
     "Show a conversation: its title and user, then the messages of the branch last viewed.\n"
     "Answers show their model and status, and the error of a failed one. Other branches\n"
     "(regenerated answers, edited questions) are counted; --json prints every message.",
     with_id, show_conversation},
    {"stats", "admin.stats", "[--days N]",
     "Per day: questions, new and active users, cards redeemed, credits sold, and time to\n"
     "first token (p50/p95 in ms). Days are in the server's local time; N defaults to 30.",
     build_stats, show_stats},
    {"audit", "admin.audit.list", "[--limit N] [--cursor CURSOR]",
     "Show the audit log of admin changes, newest first (secrets masked).", build_audit,
     show_audit},
    {"admin add", "admin.admins.add", "USERNAME",
     "Create an admin account for the web admin pages.\n"
     "On a terminal the password is asked twice without echo. Otherwise the first\n"
     "line of standard input is the password; an identical second line is allowed.",
     build_admin_add, show_admin_add},
    {"settings get", "admin.settings.get", "[KEY]",
     "Show all run-time settings, or the value of one.", build_settings_get, show_settings_get},
    {"settings set", "admin.settings.set", "KEY VALUE",
     "Change a run-time setting.\n"
     "The value is sent as a string. A VALUE of '-' reads it from standard input (all\n"
     "of it, trailing line breaks removed), for multi-line values such as\n"
     "content.sensitive_words.",
     build_settings_set, show_settings_set},
    {"backup", "admin.backup", "FILE",
     "Write an online backup of the database to FILE.\n"
     "FILE is made absolute and written by the daemon, so the daemon's user needs\n"
     "write access to its directory.",
     build_backup, show_backup},
    {"call", "", "METHOD [JSON]",
     "Call any RPC method and print its result as JSON.\n"
     "JSON is the params, an object or an array; without it the request has none.",
     build_call, show_json},
    {"methods", "system.list_methods", "", "List the RPC methods the daemon serves.",
     without_params, show_methods},
};

}  // namespace

std::span<const command> command_table() {
    return commands;
}

}  // namespace chatd::ctl
