// Context selection: which messages of a question's branch the answer is asked with.
#include <catch2/catch.hpp>

#include "chat/context.hpp"

using chatd::chat::context_message;
using chatd::chat::select_context;
using chatd::store::branch_message;

namespace {

branch_message user(std::string content) { return {"user", std::move(content), "done"}; }
branch_message answer(std::string content, std::string status = "done") {
    return {"assistant", std::move(content), std::move(status)};
}

// Each message as its role's initial and its content: "u:q1", "a:a1", "s:prompt".
std::vector<std::string> shown(const std::vector<context_message>& context) {
    std::vector<std::string> out;
    for (auto& m : context) out.push_back(std::string(1, m.role[0]) + ":" + m.content);
    return out;
}

using lines = std::vector<std::string>;

}  // namespace

TEST_CASE("a branch within the budget is sent whole, oldest first") {
    CHECK(shown(select_context({user("q1"), answer("a1"), user("q2")}, "", {})) ==
          lines{"u:q1", "a:a1", "u:q2"});
}

TEST_CASE("the message cap keeps the newest messages and always the question") {
    std::vector<branch_message> branch{user("q1"), answer("a1"), user("q2"), answer("a2"), user("q3")};
    CHECK(shown(select_context(branch, "", {5, 16000})) == lines{"u:q1", "a:a1", "u:q2", "a:a2", "u:q3"});
    CHECK(shown(select_context(branch, "", {3, 16000})) == lines{"u:q2", "a:a2", "u:q3"});
    CHECK(shown(select_context(branch, "", {1, 16000})) == lines{"u:q3"});
    CHECK(shown(select_context(branch, "", {0, 16000})) == lines{"u:q3"});
}

TEST_CASE("the character cap counts bytes and ends at the first message that does not fit") {
    std::vector<branch_message> branch{user("q1"), answer("a1"), user("q2")};
    CHECK(shown(select_context(branch, "", {20, 6})) == lines{"u:q1", "a:a1", "u:q2"});  // exactly full
    // q1 no longer fits; the context would then open with a1, which goes too.
    CHECK(shown(select_context(branch, "", {20, 5})) == lines{"u:q2"});

    // An older message that would fit is not reached once one did not.
    CHECK(shown(select_context({user("old"), answer("a long answer"), user("q")}, "", {20, 10})) ==
          lines{"u:q"});

    // 量子 is two characters but six bytes.
    std::vector<branch_message> chinese{user("量子"), answer("", "failed"), user("q")};
    CHECK(shown(select_context(chinese, "", {20, 7})) == lines{"u:量子", "u:q"});
    CHECK(shown(select_context(chinese, "", {20, 6})) == lines{"u:q"});
}

TEST_CASE("the question is kept even when it alone is over the character cap") {
    CHECK(shown(select_context({user("q1"), answer("a1"), user("a very long question")}, "", {20, 5})) ==
          lines{"u:a very long question"});
}

TEST_CASE("failed and empty answers are left out and cost nothing") {
    CHECK(shown(select_context({user("q1"), answer("partial", "failed"), user("q2")}, "", {})) ==
          lines{"u:q1", "u:q2"});
    CHECK(shown(select_context({user("q1"), answer("", "stopped"), user("q2")}, "", {})) ==
          lines{"u:q1", "u:q2"});
    // Neither a message nor characters of the budget go to them.
    CHECK(shown(select_context({user("q1"), answer("0123456789", "failed"), user("q2")}, "", {2, 4})) ==
          lines{"u:q1", "u:q2"});
    // Answers cut short keep their text; only answers are ever left out.
    CHECK(shown(select_context({user(""), answer("half", "stopped"), answer("more", "interrupted"),
                                answer("so far", "streaming"), user("q")},
                               "", {})) == lines{"u:", "a:half", "a:more", "a:so far", "u:q"});
}

TEST_CASE("the context never opens with an answer unless that is all there is") {
    CHECK(shown(select_context({answer("a0"), answer("a1"), user("q")}, "", {})) == lines{"u:q"});
    std::vector<branch_message> branch{user("q1"), answer("a1"), user("q2"), answer("a2"), user("q3")};
    CHECK(shown(select_context(branch, "", {4, 16000})) == lines{"u:q2", "a:a2", "u:q3"});
    CHECK(shown(select_context({answer("alone")}, "", {})) == lines{"a:alone"});
}

TEST_CASE("the system prompt comes first and costs nothing from the budget") {
    std::string prompt(100, 'p');
    CHECK(shown(select_context({user("q1"), answer("a1"), user("q2")}, prompt, {3, 6})) ==
          lines{"s:" + prompt, "u:q1", "a:a1", "u:q2"});
    CHECK(shown(select_context({user("q1"), answer("a1"), user("q2")}, "be brief", {1, 16000})) ==
          lines{"s:be brief", "u:q2"});
    CHECK(shown(select_context({}, "be brief", {})) == lines{"s:be brief"});
    CHECK(select_context({}, "", {}).empty());
}
