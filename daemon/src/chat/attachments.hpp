#pragma once
// Users' uploads (CONTRACT §10): checked, their text extracted, the bytes kept by content hash
// in the blob store and a row in the store; then handed to questions as images (vision models
// only) and files (their text in the question). The limits of one question live here.
// On a database several instances share, the bytes live in the database too (`blobs`) and
// the blob store under data_dir/files is this instance's cache of them: filled on a miss,
// emptied of what any instance forgets (news::files_dropped).
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chat/context.hpp"
#include "files/blob_store.hpp"
#include "store/database.hpp"
#include "util/blocking_pool.hpp"

namespace chatd::chat {

class attachments {
public:
    static constexpr std::size_t max_images = 4, max_files = 4;
    // A file's text beyond this is not kept: no model's context holds more.
    static constexpr std::size_t max_text_chars = 1'000'000;
    // Uploads never sent with a question are forgotten after this long.
    static constexpr std::int64_t unsent_lifetime_s = 24 * 3600;

    attachments(store::database& db, files::blob_store& blobs, blocking_pool& work)
        : db_(db), blobs_(blobs), work_(work) {}

    // An upload: unsupported_type for anything but the contract's images and files (or a PDF
    // without text), storage_full when the disk has no room.
    boost::asio::awaitable<store::upload_row> add(store::id_t user_id, std::string name, std::string bytes);
    // An upload and its bytes, for its owner or an admin; nullopt for anyone else.
    boost::asio::awaitable<std::optional<std::pair<store::upload_row, std::string>>> open(
        const store::user_row& viewer, std::string id);
    // The user's uploads for a question, in order: invalid_params for an unknown id, one of
    // someone else's, a repeat, or more than max_images images or max_files files.
    boost::asio::awaitable<std::vector<store::upload_row>> for_question(store::id_t user_id,
                                                                        std::vector<std::string> ids);
    // What an image is sent upstream as: a data: URL of its bytes; nullopt (logged) when its
    // bytes are gone or cannot be fetched now, so the question goes without it. Never throws.
    boost::asio::awaitable<std::optional<std::string>> data_url(context_image image);
    // After the store forgot uploads: their bytes, where no other upload has the same, here
    // and (news) in the other instances' caches.
    boost::asio::awaitable<void> drop_blobs(std::vector<std::string> hashes);
    // Forgets uploads nobody sent within unsent_lifetime_s.
    boost::asio::awaitable<void> sweep_unsent(std::int64_t now);
    // On a shared database: drops from the cache what other instances forgot.
    void listen_for_news();

private:
    // The blob's bytes: the local copy, else (shared database) the database's, cached here.
    boost::asio::awaitable<std::optional<std::string>> bytes_of(std::string hash);

    store::database& db_;
    files::blob_store& blobs_;
    blocking_pool& work_;
};

}  // namespace chatd::chat
