// Context selection: which messages of a question's branch the answer is asked with, and how
// much of the branch the store has to read for it.
#include <catch2/catch.hpp>

#include "chat/context.hpp"

using chatd::chat::context_budget;
using chatd::chat::context_selector;
using chatd::store::branch_message;

namespace {

branch_message user(std::string content) { return {"user", std::move(content), "done", {}}; }
branch_message answer(std::string content, std::string status = "done") {
    return {"assistant", std::move(content), std::move(status), {}};
}

using lines = std::vector<std::string>;

// Hands `branch` (oldest first) to a selector newest first, as the store reads it, until the
// selector wants no more; `read` counts the messages it was handed. Each message of the
// context comes back as its role's initial and its content: "u:q1", "a:a1", "s:prompt".
lines selected(std::vector<branch_message> branch, const std::string& system_prompt,
               const context_budget& budget, int* read = nullptr) {
    context_selector selector(budget);
    int handed = 0;
    for (auto it = branch.rbegin(); it != branch.rend(); ++it) {
        ++handed;
        if (!selector.take(std::move(*it))) break;
    }
    if (read) *read = handed;
    lines out;
    for (auto& m : std::move(selector).result(system_prompt))
        out.push_back(std::string(1, m.role[0]) + ":" + m.content);
    return out;
}

}  // namespace

TEST_CASE("a branch within the budget is sent whole, oldest first") {
    CHECK(selected({user("q1"), answer("a1"), user("q2")}, "", {}) ==
          lines{"u:q1", "a:a1", "u:q2"});
}

TEST_CASE("the message cap keeps the newest messages and always the question") {
    std::vector<branch_message> branch{user("q1"), answer("a1"), user("q2"), answer("a2"), user("q3")};
    CHECK(selected(branch, "", {5, 16000}) == lines{"u:q1", "a:a1", "u:q2", "a:a2", "u:q3"});
    CHECK(selected(branch, "", {3, 16000}) == lines{"u:q2", "a:a2", "u:q3"});
    CHECK(selected(branch, "", {1, 16000}) == lines{"u:q3"});
    CHECK(selected(branch, "", {0, 16000}) == lines{"u:q3"});
}

TEST_CASE("the character cap counts bytes and ends at the first message that does not fit") {
    std::vector<branch_message> branch{user("q1"), answer("a1"), user("q2")};
    CHECK(selected(branch, "", {20, 6}) == lines{"u:q1", "a:a1", "u:q2"});  // exactly full
    // q1 no longer fits; the context would then open with a1, which goes too.
    CHECK(selected(branch, "", {20, 5}) == lines{"u:q2"});

    // An older message that would fit is not reached once one did not.
    CHECK(selected({user("old"), answer("a long answer"), user("q")}, "", {20, 10}) ==
          lines{"u:q"});

    // 量子 is two characters but six bytes.
    std::vector<branch_message> chinese{user("量子"), answer("", "failed"), user("q")};
    CHECK(selected(chinese, "", {20, 7}) == lines{"u:量子", "u:q"});
    CHECK(selected(chinese, "", {20, 6}) == lines{"u:q"});
}

TEST_CASE("the question is kept even when it alone is over the character cap") {
    CHECK(selected({user("q1"), answer("a1"), user("a very long question")}, "", {20, 5}) ==
          lines{"u:a very long question"});
}

TEST_CASE("failed and empty answers are left out and cost nothing") {
    CHECK(selected({user("q1"), answer("partial", "failed"), user("q2")}, "", {}) ==
          lines{"u:q1", "u:q2"});
    CHECK(selected({user("q1"), answer("", "stopped"), user("q2")}, "", {}) ==
          lines{"u:q1", "u:q2"});
    // Neither a message nor characters of the budget go to them.
    CHECK(selected({user("q1"), answer("0123456789", "failed"), user("q2")}, "", {2, 4}) ==
          lines{"u:q1", "u:q2"});
    // Answers cut short keep their text; only answers are ever left out.
    CHECK(selected({user(""), answer("half", "stopped"), answer("more", "interrupted"),
                    answer("so far", "streaming"), user("q")},
                   "", {}) == lines{"u:", "a:half", "a:more", "a:so far", "u:q"});
}

TEST_CASE("the context never opens with an answer unless that is all there is") {
    CHECK(selected({answer("a0"), answer("a1"), user("q")}, "", {}) == lines{"u:q"});
    std::vector<branch_message> branch{user("q1"), answer("a1"), user("q2"), answer("a2"), user("q3")};
    CHECK(selected(branch, "", {4, 16000}) == lines{"u:q2", "a:a2", "u:q3"});
    CHECK(selected({answer("alone")}, "", {}) == lines{"a:alone"});
}

TEST_CASE("the system prompt comes first and costs nothing from the budget") {
    std::string prompt(100, 'p');
    CHECK(selected({user("q1"), answer("a1"), user("q2")}, prompt, {3, 6}) ==
          lines{"s:" + prompt, "u:q1", "a:a1", "u:q2"});
    CHECK(selected({user("q1"), answer("a1"), user("q2")}, "be brief", {1, 16000}) ==
          lines{"s:be brief", "u:q2"});
    CHECK(selected({}, "be brief", {}) == lines{"s:be brief"});
    CHECK(selected({}, "", {}).empty());
}

TEST_CASE("the store reads the branch only as far as the context reaches") {
    std::vector<branch_message> branch{user("q1"), answer("a1"), user("q2"), answer("a2"), user("q3")};
    int read = 0;
    selected(branch, "", {}, &read);
    CHECK(read == 5);
    // q3 and a2 are kept; q2, the first that does not fit, ends the reading.
    selected(branch, "", {2, 16000}, &read);
    CHECK(read == 3);
    selected({user("old"), answer("a long answer"), user("q")}, "", {20, 10}, &read);
    CHECK(read == 2);
    // Answers left out do not end it.
    selected({user("q1"), answer("partial", "failed"), answer("", "stopped"), user("q2")}, "",
             {2, 16000}, &read);
    CHECK(read == 4);
}

TEST_CASE("an API client's history: the newest within the budget, system messages first, images to vision") {
    using chatd::chat::client_message;
    std::vector<client_message> history{{"system", "be brief", {}},
                                        {"user", "old question", {}},
                                        {"assistant", "old answer", {}},
                                        {"system", "and kind", {}},
                                        {"user", "new question", {"data:image/png;base64,AA"}}};
    auto all = chatd::chat::client_context(history, {20, 16000, true});
    REQUIRE(all.size() == 4);
    CHECK(all[0].role == "system");
    CHECK(all[0].content == "be brief\n\nand kind");
    CHECK(all[1].content == "old question");
    CHECK(all[3].content == "new question");
    CHECK(all[3].image_urls.size() == 1);
    // Two messages at most: the answer would open the context, so the question stays alone.
    auto short_one = chatd::chat::client_context(history, {2, 16000, false});
    REQUIRE(short_one.size() == 2);
    CHECK(short_one[0].role == "system");
    CHECK(short_one[1].content == "new question");
    CHECK(short_one[1].image_urls.empty());
}
