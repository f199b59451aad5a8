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

// models

void show_models_list(const json::value& result, const rpc_request&, std::ostream& out) {
    table models({{"ID"},
                  {"NAME"},
                  {"UPSTREAM_MODEL"},
                  {"COST", align::right},
                  {"MAX_MESSAGES", align::right},
                  {"MAX_CHARS", align::right},
                  {"MAX_TOKENS", align::right},
                  {"USAGE"},
                  {"VISION"},
                  {"REASONING"},
                  {"PRICE_IN/OUT", align::right},
                  {"ENABLED"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& m = object_of(item);
        models.add_row({field_text(m, "id"), field_text(m, "name"), field_text(m, "upstream_model"),
                        field_text(m, "cost"), field_text(m, "max_messages"),
                        field_text(m, "max_context_chars"), field_text(m, "max_tokens"),
                        field_text(m, "stream_usage"), field_text(m, "vision"), field_text(m, "reasoning"),
                        field_text(m, "price_in") + "/" + field_text(m, "price_out"), field_text(m, "enabled")});
    }
    models.print(out);
}

rpc_request build_models_set(std::string_view method, const arguments& args) {
    po::options_description options;
    auto add = options.add_options();
    add("name", po::value<std::string>());
    add("upstream-model", po::value<std::string>());
    for (const char* n : {"cost", "max-messages", "max-context-chars", "sort", "max-tokens", "image-cost",
                          "price-in", "price-out", "stream-usage"})
        add(n, po::value<std::string>());
    for (const char* n : {"enable", "disable", "vision", "no-vision", "reasoning", "no-reasoning"})
        add(n, po::bool_switch());
    add("id", po::value<std::vector<std::string>>());
    po::positional_options_description positional;
    positional.add("id", -1);
    auto given = parse_options(args, options, &positional);
    auto ids =
        given.count("id") ? given["id"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (ids.size() != 1)
        throw usage_error(ids.empty() ? "missing ID" : "unexpected argument '" + ids[1] + "'");
    if (given["enable"].as<bool>() && given["disable"].as<bool>())
        throw usage_error("--enable and --disable exclude each other");
    if (given["vision"].as<bool>() && given["no-vision"].as<bool>())
        throw usage_error("--vision and --no-vision exclude each other");
    if (given["reasoning"].as<bool>() && given["no-reasoning"].as<bool>())
        throw usage_error("--reasoning and --no-reasoning exclude each other");
    json::object params{{"id", ids[0]}};
    if (given.count("name")) params["name"] = given["name"].as<std::string>();
    if (given.count("upstream-model"))
        params["upstream_model"] = given["upstream-model"].as<std::string>();
    for (auto [option, key] : {std::pair{"cost", "cost"},
                               {"max-messages", "max_messages"},
                               {"max-context-chars", "max_context_chars"},
                               {"sort", "sort"},
                               {"max-tokens", "max_tokens"},
                               {"image-cost", "image_cost"}})
        if (given.count(option)) params[key] = parse_count(option, given[option].as<std::string>());
    for (auto [option, key] : {std::pair{"price-in", "price_in"}, {"price-out", "price_out"}})
        if (given.count(option)) params[key] = parse_amount(option, given[option].as<std::string>());
    if (given.count("stream-usage")) {
        auto mode = given["stream-usage"].as<std::string>();
        if (mode != "auto" && mode != "on" && mode != "off")
            throw usage_error("--stream-usage is auto, on or off, not '" + mode + "'");
        params["stream_usage"] = mode;
    }
    if (given["enable"].as<bool>()) params["enabled"] = true;
    if (given["disable"].as<bool>()) params["enabled"] = false;
    if (given["vision"].as<bool>()) params["vision"] = true;
    if (given["no-vision"].as<bool>()) params["vision"] = false;
    if (given["reasoning"].as<bool>()) params["reasoning"] = true;
    if (given["no-reasoning"].as<bool>()) params["reasoning"] = false;
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
    out << say("removed model {}", {param_text(request, "id")}) << '\n';
}

// roles and preset questions

void show_roles_list(const json::value& result, const rpc_request&, std::ostream& out) {
    table roles({{"ID", align::right},
                 {"NAME"},
                 {"ENABLED"},
                 {"SORT", align::right},
                 {"DESCRIPTION"},
                 {"PROMPT"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& r = object_of(item);
        std::string prompt = field_text(r, "prompt");
        if (prompt.size() > 60) prompt = prompt.substr(0, 57) + "...";
        for (auto& c : prompt)
            if (c == '\n') c = ' ';
        roles.add_row({field_text(r, "id"), field_text(r, "name"), field_text(r, "enabled"),
                       field_text(r, "sort"), field_text(r, "description"), prompt});
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
    auto given = parse_options(args, options);
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
    out << say("removed role {}", {param_text(request, "id")}) << '\n';
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
    out << say("preset {} added", {field_text(object_of(result), "id")}) << '\n';
}

void show_presets_remove(const json::value&, const rpc_request& request, std::ostream& out) {
    out << say("removed preset {}", {param_text(request, "id")}) << '\n';
}

const command catalog[] = {
    {"models list", "admin.models.list", "",
     "List the models users can pick, with their credit cost and context budget.", without_params,
     show_models_list},
    {"models set", "admin.models.set",
     "ID [--name TEXT] [--upstream-model NAME] [--cost N] [--max-messages N] "
     "[--max-context-chars N] [--sort N] [--enable|--disable] [--vision|--no-vision] "
     "[--reasoning|--no-reasoning] "
     "[--max-tokens N] [--stream-usage auto|on|off] [--price-in X] [--price-out X] [--image-cost N]",
     "Add a model or change one. ID is what users pick; --upstream-model is the name sent\n"
     "upstream (default: ID). --cost is the credits one question costs; --max-messages and\n"
     "--max-context-chars bound the conversation context sent with each question.\n"
     "--vision lets users attach images; --reasoning shows the model as one that thinks first\n"
     "(also noted by itself from its first answer with reasoning); --max-tokens caps each\n"
     "answer (0: not sent);\n"
     "--stream-usage asks for token usage (auto: drop it for a key whose gateway refuses it);\n"
     "--price-in/--price-out are the upstream's price per 1M prompt/completion tokens;\n"
     "--image-cost is extra credits per attached image.",
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
};

}  // namespace

std::span<const command> catalog_commands() {
    return catalog;
}

}  // namespace chatd::ctl
