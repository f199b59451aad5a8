#include <algorithm>
#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <map>
#include <set>

#include "command_args.hpp"
#include "command_results.hpp"
#include "commands.hpp"
#include "output.hpp"

namespace chatd::ctl {

namespace json = boost::json;
namespace po = boost::program_options;

namespace {

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
    table logs({{"ID", align::right},
                {"USER", align::right},
                {"NAME"},
                {"MODEL"},
                {"UPDATED"},
                {"DELETED"},
                {"TITLE"}});
    for (const auto& item : array_field(result, "items")) {
        const auto& c = object_of(item);
        logs.add_row({field_text(c, "id"), field_text(c, "user_id"), field_text(c, "user_name"),
                      field_text(c, "model"), field_time(c, "updated_at"),
                      field_time(c, "deleted_at"), field_text(c, "title")});
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

const command logs[] = {
    {"logs", "admin.conversations.list", "[--user ID] [--query Q] [--limit N] [--cursor CURSOR]",
     "List every user's conversations, newest first (deleted ones too); read one with\n"
     "'chatctl logs show ID'.",
     build_logs, show_logs},
    {"logs show", "admin.conversations.get", "ID",
     "Show a conversation: its title and user, then the messages of the branch last viewed.\n"
     "Answers show their model and status, and the error of a failed one. Other branches\n"
     "(regenerated answers, edited questions) are counted; --json prints every message.",
     with_id, show_conversation},
};

}  // namespace

std::span<const command> log_commands() {
    return logs;
}

}  // namespace chatd::ctl
