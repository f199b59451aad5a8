#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <ctime>

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

// How `cards generate` and `cards export` print the cards; set while building the request.
std::string card_format = "txt";

std::string parse_format(const po::variables_map& given) {
    std::string f = given.count("format") ? given["format"].as<std::string>() : "txt";
    if (f != "txt" && f != "csv" && f != "json")
        throw usage_error("--format must be csv, txt or json");
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
            rows.push_back(json::object{{"code", field(c, "code")},
                                        {"questions", field(c, "questions")},
                                        {"days", field(c, "days")},
                                        {"batch", field(c, "batch")},
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
                << text_of(field(c, "batch")) << ','
                << (rb.is_null() ? std::string() : text_of(rb));
        }
        out << '\n';
    }
}

rpc_request build_cards_generate(std::string_view method, const arguments& args) {
    po::options_description options;
    auto add = options.add_options();
    for (const char* n : {"count", "questions", "days", "batch", "redeem-before", "format"})
        add(n, po::value<std::string>());
    auto given = parse_options(args, options);
    for (const char* n : {"count", "questions", "days"})
        if (!given.count(n)) throw usage_error(std::string("missing --") + n);
    json::object params{
        {"count", parse_count("count", given["count"].as<std::string>())},
        {"questions", parse_count("questions", given["questions"].as<std::string>())},
        {"days", parse_count("days", given["days"].as<std::string>())}};
    if (given.count("batch")) params["batch"] = given["batch"].as<std::string>();
    if (given.count("redeem-before"))
        params["redeem_before"] = parse_date(given["redeem-before"].as<std::string>());
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
    table cards({{"CODE"},
                 {"BATCH"},
                 {"QUESTIONS", align::right},
                 {"DAYS", align::right},
                 {"STATUS"},
                 {"REDEEMED_BY", align::right},
                 {"REDEEMED_AT"},
                 {"REDEEM_BEFORE"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& c = object_of(item);
        cards.add_row({field_text(c, "code"), field_text(c, "batch"), field_text(c, "questions"),
                       field_text(c, "days"), field_text(c, "status"), field_text(c, "redeemed_by"),
                       field_time(c, "redeemed_at"), field_time(c, "redeem_before")});
    }
    cards.print(out);
    show_next_page(result, out);
}

void show_cards_batches(const json::value& result, const rpc_request&, std::ostream& out) {
    table batches({{"BATCH"},
                   {"COUNT", align::right},
                   {"UNUSED", align::right},
                   {"USED", align::right},
                   {"REVOKED", align::right},
                   {"EXPIRED", align::right},
                   {"QUESTIONS", align::right},
                   {"DAYS", align::right},
                   {"CREATED"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& b = object_of(item);
        batches.add_row({field_text(b, "batch"), field_text(b, "count"), field_text(b, "unused"),
                         field_text(b, "used"), field_text(b, "revoked"), field_text(b, "expired"),
                         field_text(b, "questions"), field_text(b, "days"),
                         field_time(b, "created_at")});
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
    if (given.count("code"))
        params["codes"] = json::value_from(given["code"].as<std::vector<std::string>>());
    if (given.count("batch")) params["batch"] = given["batch"].as<std::string>();
    if (params.empty()) throw usage_error("give card codes or --batch NAME");
    return {std::string(method), std::move(params)};
}

void show_cards_revoke(const json::value& result, const rpc_request&, std::ostream& out) {
    out << say("revoked {} card(s)", {field_text(object_of(result), "revoked")}) << '\n';
}

const command cards[] = {
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
};

}  // namespace

std::span<const command> card_commands() {
    return cards;
}

}  // namespace chatd::ctl
