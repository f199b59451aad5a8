// Personal API keys in the store (both backends): hashes only, at most N live keys, revocation,
// the owner's switch, and questions asked with a key kept out of the owner's web history
// unless they chose to see them.
#include <catch2/catch.hpp>

#include "billing/credits.hpp"
#include "temp_db.hpp"

using namespace chatd;

namespace {

store::api_key_row key_of(store::id_t user, std::string name) {
    return {0, user, std::move(name), "sk-chatd-abcd", "wxyz", 100, std::nullopt};
}

}  // namespace

TEST_CASE("API keys: added up to the limit, found by hash, revoked by their owner only", "[both]") {
    testing::temp_db t;
    auto alice = testing::new_user(*t.st, "alice", 2, 100);
    auto bob = testing::new_user(*t.st, "bob", 2, 100);
    auto first = t.st->add_api_key(key_of(alice.id, "laptop"), "hash-1", 2);
    t.st->add_api_key(key_of(alice.id, "phone"), "hash-2", 2);
    CHECK_THROWS_AS(t.st->add_api_key(key_of(alice.id, "third"), "hash-3", 2), app_error);
    t.st->add_api_key(key_of(bob.id, "bob's"), "hash-4", 2);

    auto keys = t.st->api_keys(alice.id);
    REQUIRE(keys.size() == 2);
    CHECK(keys[0].name == "laptop");
    CHECK(keys[0].shown_prefix == "sk-chatd-abcd");
    CHECK_FALSE(keys[0].last_used_at);

    auto caller = t.st->find_api_key("hash-1");
    REQUIRE(caller);
    CHECK(caller->user.id == alice.id);
    CHECK(caller->key_id == first);
    CHECK(caller->key_name == "laptop");
    CHECK(caller->user.api_enabled);
    CHECK_FALSE(caller->last_used_at);
    t.st->note_api_key_used(first, 150);
    t.st->note_api_key_used(first, 140);  // a late note from another instance never goes back
    CHECK(t.st->api_keys(alice.id)[0].last_used_at == 150);
    CHECK(t.st->find_api_key("hash-1")->last_used_at == 150);
    CHECK_FALSE(t.st->find_api_key("no-such-hash"));

    CHECK_FALSE(t.st->revoke_api_key(bob.id, first, 160));  // not bob's
    CHECK(t.st->revoke_api_key(alice.id, first, 160));
    CHECK_FALSE(t.st->revoke_api_key(alice.id, first, 161));  // once
    CHECK_FALSE(t.st->find_api_key("hash-1"));
    CHECK(t.st->api_keys(alice.id).size() == 1);
    // A revoked key frees its place.
    t.st->add_api_key(key_of(alice.id, "third"), "hash-3", 2);

    CHECK(t.st->set_api_enabled(alice.id, false));
    CHECK_FALSE(t.st->user_by_id(alice.id)->api_enabled);
    CHECK_FALSE(t.st->find_api_key("hash-2")->user.api_enabled);
    CHECK_FALSE(t.st->set_api_enabled(9999, false));
}

TEST_CASE("API questions: a conversation of their own, out of the web history, counted apart", "[both]") {
    testing::temp_db t;
    auto u = testing::new_user(*t.st, "carol", 5, 100);
    auto key = t.st->add_api_key(key_of(u.id, "script"), "hash-9", 10);
    const store::branch_reader everything = [](store::branch_message) { return true; };
    store::question web;
    web.user_id = u.id;
    web.content = "from the web";
    web.model = "gpt-4o-mini";
    auto asked_on_web = t.st->start_question(web, billing::question_charge(1, 101), everything, 101);
    store::question api = web;
    api.content = "from a script";
    api.api_key_id = key;
    auto asked_by_api = t.st->start_question(api, billing::question_charge(1, 102), everything, 102);
    CHECK(t.st->balance_of(u.id).trial == 3);

    std::optional<std::string> next;
    auto own = t.st->conversations(u.id, "", {}, next);
    REQUIRE(own.size() == 1);
    CHECK(own[0].id == asked_on_web.conversation_id);
    using view = store::store::conversation_view;
    auto all = t.st->conversations(u.id, "", {}, next, view::operator_view);
    REQUIRE(all.size() == 2);
    // The owner's choice brings them into the web history; their profile keeps it.
    CHECK(t.st->conversations(u.id, "", {}, next, view::web_and_api).size() == 2);
    CHECK_FALSE(t.st->user_by_id(u.id)->show_api_history);
    t.st->update_user(u.id, {.show_api_history = true});
    CHECK(t.st->user_by_id(u.id)->show_api_history);
    t.st->update_user(u.id, {.name = "Carol"});  // other changes leave it as it is
    CHECK(t.st->user_by_id(u.id)->show_api_history);
    CHECK(t.st->user_by_id(u.id)->name == "Carol");
    auto api_conv = t.st->conversation(asked_by_api.conversation_id);
    REQUIRE(api_conv);
    CHECK(api_conv->api_key_name == "script");
    CHECK_FALSE(t.st->conversation(asked_on_web.conversation_id)->api_key_name);

    auto days = t.st->stats(1, 102);
    REQUIRE(days.size() == 1);
    CHECK(days[0].questions == 2);
    CHECK(days[0].api_questions == 1);
}
