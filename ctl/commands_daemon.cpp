#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
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
        } else if (key.ends_with("_at")) {
            out << std::string_view(key) << ": " << field_time(object_of(result), key) << '\n';
        } else {
            out << std::string_view(key) << ": " << text_of(value) << '\n';
        }
    }
}

// stats, audit

// --models asks for the same period per model (admin.stats.models).
rpc_request build_stats(std::string_view method, const arguments& args) {
    po::options_description options;
    options.add_options()("days", po::value<std::string>())("models", po::bool_switch());
    auto given = parse_options(args, options);
    json::object params;
    if (given.count("days")) params["days"] = parse_count("days", given["days"].as<std::string>());
    if (given["models"].as<bool>()) return {"admin.stats.models", std::move(params)};
    return {std::string(method), std::move(params)};
}

std::string money(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_number()) return "-";
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", v->to_number<double>());
    return text;
}

void show_model_stats(const json::value& result, std::ostream& out) {
    table models({{"MODEL"},
                  {"QUESTIONS", align::right},
                  {"PROMPT_TOKENS", align::right},
                  {"COMPLETION_TOKENS", align::right},
                  {"COST", align::right},
                  {"CREDITS", align::right},
                  {"REVENUE", align::right},
                  {"MARGIN", align::right}});
    for (const auto& item : array_field(result, "items")) {
        const auto& m = object_of(item);
        auto number = [&](std::string_view key) { return m.at(key).to_number<double>(); };
        char margin[32];
        std::snprintf(margin, sizeof margin, "%.2f", number("revenue") - number("upstream_cost"));
        models.add_row({field_text(m, "model"), field_text(m, "questions"), field_text(m, "prompt_tokens"),
                        field_text(m, "completion_tokens"), money(m, "upstream_cost"), field_text(m, "credits"),
                        money(m, "revenue"), margin});
    }
    models.print(out);
    out << say("amounts in {}", {field_text(object_of(result), "currency")}) << '\n';
}

void show_model_stats(const json::value& result, const rpc_request&, std::ostream& out) {
    show_model_stats(result, out);
}

void show_stats(const json::value& result, const rpc_request& request, std::ostream& out) {
    if (request.method == "admin.stats.models") return show_model_stats(result, out);
    table days({{"DATE"},
                {"QUESTIONS", align::right},
                {"NEW_USERS", align::right},
                {"ACTIVE", align::right},
                {"REDEEMED", align::right},
                {"SOLD", align::right},
                {"TTFT_P50", align::right},
                {"TTFT_P95", align::right},
                {"COST", align::right},
                {"REVENUE", align::right}});
    for (const auto& item : array_field(result, "days")) {
        const auto& d = object_of(item);
        days.add_row({field_text(d, "date"), field_text(d, "questions"), field_text(d, "new_users"),
                      field_text(d, "active_users"), field_text(d, "redemptions"),
                      field_text(d, "credits_sold"), field_text(d, "first_token_p50_ms"),
                      field_text(d, "first_token_p95_ms"), money(d, "upstream_cost"), money(d, "revenue")});
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
    out << say("set {}", {param_text(request, "key")}) << '\n';
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
    out << say("wrote {} bytes to {}", {field_text(object_of(result), "bytes"), param_text(request, "path")})
        << '\n';
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

const command status[] = {
    {"status", "admin.status", "",
     "Show the daemon's version, uptime, counters and key health.\n"
     "Counts users, conversations and answers in flight, and the upstream keys by\n"
     "status: active, cooling, invalid and disabled.",
     without_params, show_status},
};

const command reports[] = {
    {"stats", "admin.stats", "[--days N] [--models]",
     "Per day: questions, new and active users, cards redeemed, credits sold, time to first\n"
     "token (p50/p95 in ms), upstream cost and revenue. Days are in the server's local time;\n"
     "N defaults to 30. --models shows the period per model instead (admin.stats.models):\n"
     "questions, tokens, upstream cost at the model's prices, credits, revenue and margin.",
     build_stats, show_stats},
    {"stats models", "admin.stats.models", "[--days N]",
     "The same as stats --models: the period per model, most asked first.", build_stats,
     show_model_stats},
    {"audit", "admin.audit.list", "[--limit N] [--cursor CURSOR]",
     "Show the audit log of admin changes, newest first (secrets masked).", build_audit,
     show_audit},
};

const command maintenance[] = {
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
};

const command rpc[] = {
    {"call", "", "METHOD [JSON]",
     "Call any RPC method and print its result as JSON.\n"
     "JSON is the params, an object or an array; without it the request has none.",
     build_call, show_json},
    {"methods", "system.list_methods", "", "List the RPC methods the daemon serves.",
     without_params, show_methods},
};

}  // namespace

std::span<const command> status_commands() {
    return status;
}

std::span<const command> report_commands() {
    return reports;
}

std::span<const command> maintenance_commands() {
    return maintenance;
}

std::span<const command> rpc_commands() {
    return rpc;
}

}  // namespace chatd::ctl
