// Users' uploads and the questions they were sent with.
#include "store/sqlite/sqlite_store.hpp"

#include <algorithm>

namespace chatd::store {

namespace {

constexpr const char* upload_columns = "u.id, u.user_id, u.hash, u.name, u.mime, u.kind, u.size, u.chars, u.created_at";

upload_row read_upload(SQLite::Statement& st) {
    upload_row u;
    u.id = st.getColumn(0).getString();
    u.user_id = st.getColumn(1).getInt64();
    u.hash = st.getColumn(2).getString();
    u.name = st.getColumn(3).getString();
    u.mime = st.getColumn(4).getString();
    u.kind = st.getColumn(5).getString();
    u.size = st.getColumn(6).getInt64();
    u.chars = st.getColumn(7).getInt64();
    u.created_at = st.getColumn(8).getInt64();
    return u;
}

}  // namespace

void sqlite_store::add_upload(const upload_row& u) {
    stmt st = prepare(
        "INSERT INTO uploads (id, user_id, hash, name, mime, size, kind, text, chars, created_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, u.id);
    st.bind(2, u.user_id);
    st.bind(3, u.hash);
    st.bind(4, u.name);
    st.bind(5, u.mime);
    st.bind(6, u.size);
    st.bind(7, u.kind);
    st.bind(8, u.text);
    st.bind(9, u.chars);
    st.bind(10, u.created_at);
    st.exec();
}

void sqlite_store::add_upload_with_blob(const upload_row& u, const std::string& bytes) {
    savepoint t(db_);
    stmt st = prepare("INSERT INTO blobs (hash, bytes) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING");
    st.bind(1, u.hash);
    st.bind(2, static_cast<const void*>(bytes.data()), static_cast<int>(bytes.size()));
    st.exec();
    add_upload(u);
    t.commit();
}

std::optional<std::string> sqlite_store::blob(const std::string& hash) {
    stmt st = prepare("SELECT bytes FROM blobs WHERE hash = ?");
    st.bind(1, hash);
    if (!st.executeStep()) return std::nullopt;
    auto column = st.getColumn(0);
    return std::string(static_cast<const char*>(column.getBlob()), static_cast<std::size_t>(column.getBytes()));
}

std::optional<upload_row> sqlite_store::upload(const std::string& id) {
    stmt st = prepare(std::string("SELECT ") + upload_columns + ", u.text FROM uploads u WHERE u.id = ?");
    st.bind(1, id);
    if (!st.executeStep()) return std::nullopt;
    auto u = read_upload(st);
    u.text = st.getColumn(9).getString();
    return u;
}

std::vector<upload_row> sqlite_store::attachments_of(id_t message_id) {
    stmt st = prepare(std::string("SELECT ") + upload_columns +
                      " FROM message_attachments a JOIN uploads u ON u.id = a.upload_id WHERE a.message_id = ? "
                      "ORDER BY a.position");
    st.bind(1, message_id);
    std::vector<upload_row> out;
    while (st.executeStep()) out.push_back(read_upload(st));
    return out;
}

void sqlite_store::attach_uploads(id_t message_id, const std::vector<std::string>& upload_ids) {
    stmt st = prepare("INSERT INTO message_attachments (message_id, upload_id, position) VALUES (?,?,?)");
    int position = 0;
    for (const auto& id : upload_ids) {
        st.reset();
        st.bind(1, message_id);
        st.bind(2, id);
        st.bind(3, position++);
        st.exec();
    }
}

std::vector<upload_row> sqlite_store::attachments_with_text(id_t message_id) {
    stmt st = prepare(std::string("SELECT ") + upload_columns +
                      ", u.text FROM message_attachments a JOIN uploads u ON u.id = a.upload_id "
                      "WHERE a.message_id = ? ORDER BY a.position");
    st.bind(1, message_id);
    std::vector<upload_row> out;
    while (st.executeStep()) {
        out.push_back(read_upload(st));
        out.back().text = st.getColumn(9).getString();
    }
    return out;
}

std::vector<std::string> sqlite_store::forget_uploads(id_t conversation_id) {
    // Those sent in this conversation only: an upload also sent elsewhere stays.
    stmt st = prepare(
        "SELECT DISTINCT u.id, u.hash FROM uploads u JOIN message_attachments a ON a.upload_id = u.id "
        "JOIN messages m ON m.id = a.message_id WHERE m.conversation_id = ?1 AND NOT EXISTS ("
        "SELECT 1 FROM message_attachments b JOIN messages n ON n.id = b.message_id "
        "WHERE b.upload_id = u.id AND n.conversation_id != ?1)");
    st.bind(1, conversation_id);
    std::vector<std::pair<std::string, std::string>> found;
    while (st.executeStep()) found.emplace_back(st.getColumn(0).getString(), st.getColumn(1).getString());
    return forget(found);
}

std::vector<std::string> sqlite_store::forget_unsent_uploads(std::int64_t before) {
    stmt st = prepare(
        "SELECT u.id, u.hash FROM uploads u WHERE u.created_at < ? AND NOT EXISTS "
        "(SELECT 1 FROM message_attachments a WHERE a.upload_id = u.id)");
    st.bind(1, before);
    std::vector<std::pair<std::string, std::string>> found;
    while (st.executeStep()) found.emplace_back(st.getColumn(0).getString(), st.getColumn(1).getString());
    return forget(found);
}

std::vector<std::string> sqlite_store::forget(const std::vector<std::pair<std::string, std::string>>& uploads) {
    savepoint t(db_);
    stmt links = prepare("DELETE FROM message_attachments WHERE upload_id = ?");
    stmt rows = prepare("DELETE FROM uploads WHERE id = ?");
    for (const auto& [id, hash] : uploads) {
        links.reset();
        links.bind(1, id);
        links.exec();
        rows.reset();
        rows.bind(1, id);
        rows.exec();
    }
    // A blob goes only when no upload (of anyone) still has the same bytes.
    std::vector<std::string> unused;
    stmt still = prepare("SELECT 1 FROM uploads WHERE hash = ? LIMIT 1");
    for (const auto& [id, hash] : uploads) {
        still.reset();
        still.bind(1, hash);
        if (!still.executeStep() && std::find(unused.begin(), unused.end(), hash) == unused.end())
            unused.push_back(hash);
    }
    stmt blobs = prepare("DELETE FROM blobs WHERE hash = ?");
    for (const auto& hash : unused) {
        blobs.reset();
        blobs.bind(1, hash);
        blobs.exec();
    }
    t.commit();
    return unused;
}

}  // namespace chatd::store
