// Uploads' bytes in the store (`blobs`), which instances sharing a database read each other's
// uploads from: kept with the upload in one transaction, gone with the last upload of a hash.
#include <catch2/catch.hpp>

#include "billing/credits.hpp"
#include "temp_db.hpp"
#include "util/random.hpp"

using namespace chatd;
using testing::temp_db;

namespace {

// Every byte value, so nothing is lost crossing as text (PostgreSQL's hex) or as a SQLite blob.
std::string every_byte() {
    std::string out;
    for (int i = 0; i < 256; ++i) out.push_back(static_cast<char>(i));
    return out + std::string("\0tail", 5);
}

store::upload_row upload(const std::string& id, store::id_t user, const std::string& bytes, std::int64_t at) {
    store::upload_row u;
    u.id = id;
    u.user_id = user;
    u.hash = sha256_hex(bytes);
    u.name = id + ".png";
    u.mime = "image/png";
    u.kind = "image";
    u.size = static_cast<std::int64_t>(bytes.size());
    u.created_at = at;
    return u;
}

}  // namespace

TEST_CASE("an upload's bytes are kept with it and read back whole", "[both]") {
    temp_db t;
    auto& s = *t.st;
    auto user = testing::new_user(s, "alice", 2, 100);
    auto bytes = every_byte();
    s.add_upload_with_blob(upload("f1", user.id, bytes, 100), bytes);
    CHECK(s.upload("f1"));
    auto back = s.blob(sha256_hex(bytes));
    REQUIRE(back);
    CHECK(*back == bytes);
    CHECK_FALSE(s.blob(sha256_hex("other bytes")));
    // The same bytes uploaded again (by anyone) share the row.
    s.add_upload_with_blob(upload("f2", user.id, bytes, 100), bytes);
    CHECK(*s.blob(sha256_hex(bytes)) == bytes);
}

TEST_CASE("a blob goes with the last upload that has its bytes", "[both]") {
    temp_db t;
    auto& s = *t.st;
    auto user = testing::new_user(s, "bob", 2, 100);
    auto shared = every_byte(), own = std::string("only mine");
    s.add_upload_with_blob(upload("old", user.id, shared, 100), shared);
    s.add_upload_with_blob(upload("new", user.id, shared, 200), shared);
    s.add_upload_with_blob(upload("mine", user.id, own, 100), own);
    // Unsent and older than 150: "old" and "mine"; the bytes of "old" are still "new"'s.
    CHECK(s.forget_unsent_uploads(150) == std::vector<std::string>{sha256_hex(own)});
    CHECK(s.blob(sha256_hex(shared)));
    CHECK_FALSE(s.blob(sha256_hex(own)));

    // Sent with a question, "new" goes with its conversation.
    store::question q;
    q.user_id = user.id;
    q.content = "what is this?";
    q.model = "gpt-4o-mini";
    q.attachments = {"new"};
    auto started = s.start_question(q, billing::question_charge(1, 300), [](store::branch_message) { return true; },
                                    300);
    CHECK(s.forget_unsent_uploads(1000).empty());
    REQUIRE(s.delete_conversation(user.id, started.conversation_id, 400));
    CHECK(s.forget_uploads(started.conversation_id) == std::vector<std::string>{sha256_hex(shared)});
    CHECK_FALSE(s.blob(sha256_hex(shared)));
    CHECK_FALSE(s.upload("new"));
}
