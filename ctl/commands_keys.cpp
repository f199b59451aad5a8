#include <algorithm>
#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <iostream>

#include "command_args.hpp"
#include "command_results.hpp"
#include "commands.hpp"
#include "errors.hpp"
#include "input.hpp"
#include "messages.hpp"
#include "output.hpp"

namespace chatd::ctl {

namespace json = boost::json;
namespace po = boost::program_options;

namespace {

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

// For `keys test` and `keys balance`: one key, or without ID all of them.
rpc_request with_optional_id(std::string_view method, const arguments& args) {
    expect_arguments(args, {"ID"}, 0);
    json::object params;
    if (!args.empty()) params["id"] = parse_id(args[0]);
    return {std::string(method), std::move(params)};
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
    auto given = parse_options(args, options, &positional);

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
    std::string listed;
    for (const auto& id : ids) listed += ' ' + text_of(id);
    out << say("added {} key(s): ids{}", {std::to_string(ids.size()), listed}) << '\n';
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
                {"COOLING_UNTIL"},
                {"BASE_URL"},
                {"REASON"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& key = object_of(item);
        keys.add_row({field_text(key, "id"), field_text(key, "masked"), field_text(key, "status"),
                      field_text(key, "requests"), field_text(key, "failures"),
                      field_text(key, "tokens_in"), field_text(key, "tokens_out"),
                      field_time(key, "last_used_at"), field_time(key, "cooldown_until"),
                      field_text(key, "base_url"),
                      field_text(key, "reason")});
    }
    keys.print(out);
}

void show_keys_remove(const json::value&, const rpc_request& request, std::ostream& out) {
    out << say("removed key {}", {param_text(request, "id")}) << '\n';
}

void show_keys_enable(const json::value&, const rpc_request& request, std::ostream& out) {
    out << say("enabled key {}", {param_text(request, "id")}) << '\n';
}

void show_keys_disable(const json::value&, const rpc_request& request, std::ostream& out) {
    out << say("disabled key {}", {param_text(request, "id")}) << '\n';
}

void show_keys_test(const json::value& result, const rpc_request&, std::ostream& out) {
    table tests({{"ID", align::right}, {"RESULT"}, {"STATUS"}, {"REASON"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& t = object_of(item);
        const auto* ok = t.if_contains("ok");
        tests.add_row({field_text(t, "id"),
                       tr(ok && ok->is_bool() && ok->get_bool() ? "works" : "fails"),
                       field_text(t, "status"), field_text(t, "reason")});
    }
    tests.print(out);
}

std::string keys_test_failure(const json::value& result) {
    std::size_t failed = 0;
    for (const auto& item : array_field(result, "items")) {
        const auto* ok = object_of(item).if_contains("ok");
        if (!ok || !ok->is_bool() || !ok->get_bool()) ++failed;
    }
    return failed ? say("{} of the tested keys failed", {std::to_string(failed)}) : std::string();
}

void show_keys_history(const json::value& result, const rpc_request&, std::ostream& out) {
    table events({{"AT"}, {"STATUS"}, {"REASON"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& e = object_of(item);
        events.add_row({field_time(e, "at"), field_text(e, "status"), field_text(e, "reason")});
    }
    events.print(out);
}

void show_keys_balance(const json::value& result, const rpc_request&, std::ostream& out) {
    table balances(
        {{"ID", align::right}, {"PROVIDER"}, {"BALANCE", align::right}, {"CURRENCY"}, {"ERROR"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& b = object_of(item);
        balances.add_row({field_text(b, "id"), field_text(b, "provider"), field_text(b, "balance"),
                          field_text(b, "currency"), field_text(b, "error")});
    }
    balances.print(out);
}

void show_keys_providers(const json::value& result, const rpc_request&, std::ostream& out) {
    table providers({{"PROVIDER"}, {"NAME"}, {"BASE URL"}, {"BALANCE"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& p = object_of(item);
        providers.add_row({field_text(p, "id"), field_text(p, "name"), field_text(p, "base_url"),
                           field_text(p, "balance") == "true" ? "yes" : "no"});
    }
    providers.print(out);
}

const command keys[] = {
    {"keys add", "admin.keys.add",
     "[--base-url URL] [--models A,B] [--note TEXT] "
     "[--provider PROVIDER] KEY...",
     "Add upstream API keys to the pool and print their ids.\n"
     "With a single '-' instead of keys, read them from standard input, one per line\n"
     "(blank lines and surrounding spaces are ignored). --base-url defaults to\n"
     "upstream.base_url; --models limits a key to those models; --provider (default\n"
     "openai; 'chatctl keys providers' lists them) picks the balance endpoint.",
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
     "Test a key (GET /models), or without ID every invalid key; exits 1 when a tested key fails.\n"
     "A key that works returns to the pool. One that fails for a reason of the key's own (refused\n"
     "as invalid or deactivated, out of quota) is marked invalid, as a failing answer would mark\n"
     "it; a passing failure (timeout, server error, rate limit) leaves its status alone.",
     with_optional_id, show_keys_test, keys_test_failure},
    {"keys history", "admin.keys.history", "ID",
     "Show a key's status changes, newest first (evicted, cooling, back to active).", with_id,
     show_keys_history},
    {"keys balance", "admin.keys.balance", "[ID]",
     "Ask the providers for the balance of every key, or of one. Available for the providers\n"
     "'chatctl keys providers' marks so; never changes a key's status.",
     with_optional_id, show_keys_balance},
    {"keys providers", "admin.providers.list", "",
     "List the providers a key can be added for, with their usual base URL and whether\n"
     "they report a balance.",
     without_params, show_keys_providers},
};

}  // namespace

std::span<const command> key_commands() {
    return keys;
}

}  // namespace chatd::ctl
