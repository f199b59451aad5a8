#include <boost/json.hpp>
#include <boost/program_options.hpp>

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
    table users({{"ID", align::right},
                 {"NAME"},
                 {"TRIAL", align::right},
                 {"PAID", align::right},
                 {"PAID_EXPIRES"},
                 {"ADMIN"},
                 {"BANNED"},
                 {"CREATED"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& u = object_of(item);
        const auto& b = object_field(u, "balance");
        users.add_row({field_text(u, "id"), field_text(u, "name"), field_text(b, "trial"),
                       field_text(b, "paid"), field_time(b, "paid_expires_at"),
                       field_text(u, "is_admin"), field_text(u, "banned"),
                       field_time(u, "created_at")});
    }
    users.print(out);
    show_next_page(result, out);
}

void show_users_show(const json::value& result, const rpc_request&, std::ostream& out) {
    const auto& u = object_of(result);
    const auto& b = object_field(u, "balance");
    out << "id: " << field_text(u, "id") << "\nname: " << field_text(u, "name")
        << "\ntrial: " << field_text(b, "trial") << "\npaid: " << field_text(b, "paid")
        << "\npaid_expires_at: " << field_time(b, "paid_expires_at")
        << "\nbanned: " << field_text(u, "banned")
        << "\napi_enabled: " << field_text(u, "api_enabled")
        << "\ninvited_by: " << field_text(u, "invited_by")
        << "\ncreated_at: " << field_time(u, "created_at") << "\n\n";
    table ledger({{"AT"}, {"TRIAL", align::right}, {"PAID", align::right}, {"REASON"}, {"REF"}});
    for (const auto& item : array_field(result, "ledger")) {
        const auto& l = object_of(item);
        ledger.add_row({field_time(l, "at"), field_text(l, "delta_trial"),
                        field_text(l, "delta_paid"), field_text(l, "reason"),
                        field_text(l, "ref")});
    }
    ledger.print(out);
    if (array_field(result, "api_keys").empty()) return;
    out << "\n";
    table keys({{"KEY_ID", align::right}, {"NAME"}, {"KEY"}, {"CREATED"}, {"LAST_USED"}});
    for (const auto& item : array_field(result, "api_keys")) {
        const auto& k = object_of(item);
        keys.add_row({field_text(k, "id"), field_text(k, "name"), field_text(k, "masked"), field_time(k, "created_at"),
                      field_time(k, "last_used_at")});
    }
    keys.print(out);
}

rpc_request build_users_api(std::string_view method, const arguments& args) {
    expect_arguments(args, {"ID", "on|off"}, 2);
    if (args[1] != "on" && args[1] != "off") throw usage_error("expected on or off, not '" + args[1] + "'");
    return {std::string(method), json::object{{"id", parse_id(args[0])}, {"enabled", args[1] == "on"}}};
}

void show_users_api(const json::value&, const rpc_request& request, std::ostream& out) {
    out << say("user {}: API {}", {param_text(request, "id"), param_text(request, "enabled") == "true" ? "on" : "off"})
        << '\n';
}

rpc_request build_users_grant(std::string_view method, const arguments& args) {
    po::options_description options;
    auto add = options.add_options();
    for (const char* n : {"questions", "days", "bucket"}) add(n, po::value<std::string>());
    add("id", po::value<std::vector<std::string>>());
    po::positional_options_description positional;
    positional.add("id", -1);
    // Negative numbers are values here, not options.
    auto given = parse_options(
        args, options, &positional,
        po::command_line_style::default_style ^ po::command_line_style::allow_guessing);
    auto ids =
        given.count("id") ? given["id"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (ids.size() != 1)
        throw usage_error(ids.empty() ? "missing ID" : "unexpected argument '" + ids[1] + "'");
    if (!given.count("questions")) throw usage_error("missing --questions");
    json::object params{
        {"id", parse_id(ids[0])},
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
    out << say("banned user {}", {param_text(request, "id")}) << '\n';
}

void show_users_unban(const json::value&, const rpc_request& request, std::ostream& out) {
    out << say("unbanned user {}", {param_text(request, "id")}) << '\n';
}

// admin

rpc_request build_admin_add(std::string_view method, const arguments& args) {
    expect_arguments(args, {"USERNAME"}, 1);
    if (args[0].empty()) throw usage_error("empty USERNAME");
    return {std::string(method),
            json::object{{"username", args[0]}, {"password", read_new_password(args[0])}}};
}

void show_admin_add(const json::value& result, const rpc_request& request, std::ostream& out) {
    out << say("added admin {} (id {})", {param_text(request, "username"), field_text(object_of(result), "id")})
        << '\n';
}

const command users[] = {
    {"users list", "admin.users.list", "[--query Q] [--limit N] [--cursor CURSOR]",
     "List users, newest first, with their balance; Q matches id, username or name.",
     build_users_list, show_users_list},
    {"users show", "admin.users.get", "ID", "Show a user's balance, ledger and API keys (masked).", with_id,
     show_users_show},
    {"users grant", "admin.users.grant", "ID --questions N [--days D] [--bucket paid|trial]",
     "Grant questions (a negative N deducts). Trial credits never expire; paid ones need a valid\n"
     "expiry or --days D, which renews like a recharge card. The bucket defaults to paid with\n"
     "--days and to trial without.",
     build_users_grant, show_users_grant},
    {"users ban", "admin.users.ban", "ID", "Ban a user: their sessions end and they cannot log in.",
     with_id, show_users_ban},
    {"users unban", "admin.users.unban", "ID", "Lift a ban.", with_id, show_users_unban},
    {"users api", "admin.users.set_api", "ID on|off",
     "Switch a user's OpenAI-compatible API on or off; their keys stay, refused while it is off.", build_users_api,
     show_users_api},
};

const command admins[] = {
    {"admin add", "admin.admins.add", "USERNAME",
     "Create an admin account for the web admin pages.\n"
     "On a terminal the password is asked twice without echo. Otherwise the first\n"
     "line of standard input is the password; an identical second line is allowed.",
     build_admin_add, show_admin_add},
};

}  // namespace

std::span<const command> user_commands() {
    return users;
}

std::span<const command> admin_commands() {
    return admins;
}

}  // namespace chatd::ctl
