// Users' uploads and the questions they were sent with.
#include "store/postgres/postgres_store.hpp"

#include <algorithm>

#include "store/postgres/values.hpp"

namespace chatd::store {

using namespace pg;

namespace {

constexpr const char* upload_columns = "u.id, u.user_id, u.hash, u.name, u.mime, u.kind, u.size, u.chars, u.created_at";

upload_row read_upload(const result& r, int row) {
    upload_row u;
    u.id = str(r, row, 0);
    u.user_id = i64(r, row, 1);
    u.hash = str(r, row, 2);
    u.name = str(r, row, 3);
    u.mime = str(r, row, 4);
    u.kind = str(r, row, 5);
    u.size = i64(r, row, 6);
    u.chars = i64(r, row, 7);
    u.created_at = i64(r, row, 8);
    return u;
}

// (id, hash) of each row.
std::vector<std::pair<std::string, std::string>> ids_and_hashes(const result& r) {
    std::vector<std::pair<std::string, std::string>> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(str(r, i, 0), str(r, i, 1));
    return out;
}

}  // namespace

void postgres_store::add_upload(const upload_row& u) {
    db_.exec("INSERT INTO uploads (id, user_id, hash, name, mime, size, kind, text, chars, created_at) "
             "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
             {p(u.id), p(u.user_id), p(u.hash), p(u.name), p(u.mime), p(u.size), p(u.kind), p(u.text), p(u.chars),
              p(u.created_at)});
}

void postgres_store::add_upload_with_blob(const upload_row& u, const std::string& bytes) {
    transaction t(db_);
    db_.exec("INSERT INTO blobs (hash, bytes) VALUES ($1, decode($2, 'hex')) ON CONFLICT (hash) DO NOTHING",
             {p(u.hash), hex_of(bytes)});
    add_upload(u);
    t.commit();
}

std::optional<std::string> postgres_store::blob(const std::string& hash) {
    auto r = db_.exec("SELECT encode(bytes, 'hex') FROM blobs WHERE hash = $1", {p(hash)});
    if (r.rows() == 0) return std::nullopt;
    return bytes_of_hex(r.text(0, 0));
}

std::optional<upload_row> postgres_store::upload(const std::string& id) {
    auto r = db_.exec(std::string("SELECT ") + upload_columns + ", u.text FROM uploads u WHERE u.id = $1", {p(id)});
    if (r.rows() == 0) return std::nullopt;
    auto u = read_upload(r, 0);
    u.text = str(r, 0, 9);
    return u;
}

std::vector<upload_row> postgres_store::attachments_of(id_t message_id) {
    auto r = db_.exec(std::string("SELECT ") + upload_columns +
                          " FROM message_attachments a JOIN uploads u ON u.id = a.upload_id WHERE a.message_id = $1 "
                          "ORDER BY a.position",
                      {p(message_id)});
    std::vector<upload_row> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_upload(r, i));
    return out;
}

void postgres_store::attach_uploads(id_t message_id, const std::vector<std::string>& upload_ids) {
    int position = 0;
    for (const auto& id : upload_ids)
        db_.exec("INSERT INTO message_attachments (message_id, upload_id, position) VALUES ($1, $2, $3)",
                 {p(message_id), p(id), p(position++)});
}

std::vector<upload_row> postgres_store::attachments_with_text(id_t message_id) {
    auto r = db_.exec(std::string("SELECT ") + upload_columns +
                          ", u.text FROM message_attachments a JOIN uploads u ON u.id = a.upload_id "
                          "WHERE a.message_id = $1 ORDER BY a.position",
                      {p(message_id)});
    std::vector<upload_row> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(read_upload(r, i));
        out.back().text = str(r, i, 9);
    }
    return out;
}

std::vector<std::string> postgres_store::forget_uploads(id_t conversation_id) {
    // Those sent in this conversation only: an upload also sent elsewhere stays.
    auto r = db_.exec(
        "SELECT DISTINCT u.id, u.hash FROM uploads u JOIN message_attachments a ON a.upload_id = u.id "
        "JOIN messages m ON m.id = a.message_id WHERE m.conversation_id = $1 AND NOT EXISTS ("
        "SELECT 1 FROM message_attachments b JOIN messages n ON n.id = b.message_id "
        "WHERE b.upload_id = u.id AND n.conversation_id != $1)",
        {p(conversation_id)});
    return forget(ids_and_hashes(r));
}

std::vector<std::string> postgres_store::forget_unsent_uploads(std::int64_t before) {
    auto r = db_.exec(
        "SELECT u.id, u.hash FROM uploads u WHERE u.created_at < $1 AND NOT EXISTS "
        "(SELECT 1 FROM message_attachments a WHERE a.upload_id = u.id)",
        {p(before)});
    return forget(ids_and_hashes(r));
}

std::vector<std::string> postgres_store::forget(const std::vector<std::pair<std::string, std::string>>& uploads) {
    transaction t(db_);
    for (const auto& [id, hash] : uploads) {
        db_.exec("DELETE FROM message_attachments WHERE upload_id = $1", {p(id)});
        db_.exec("DELETE FROM uploads WHERE id = $1", {p(id)});
    }
    // A blob goes only when no upload (of anyone) still has the same bytes.
    std::vector<std::string> unused;
    for (const auto& [id, hash] : uploads) {
        auto still = db_.exec("SELECT 1 FROM uploads WHERE hash = $1 LIMIT 1", {p(hash)});
        if (still.rows() == 0 && std::find(unused.begin(), unused.end(), hash) == unused.end())
            unused.push_back(hash);
    }
    for (const auto& hash : unused) db_.exec("DELETE FROM blobs WHERE hash = $1", {p(hash)});
    t.commit();
    return unused;
}

}  // namespace chatd::store
