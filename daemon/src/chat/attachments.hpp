#pragma once
// Users' uploads (CONTRACT §10): checked, their text extracted, the bytes kept by content hash
// in the blob store and a row in the store; then handed to questions as images (vision models
// only) and files (their text in the question). The limits of one question live here.
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
    // bytes are gone from the blob store, so the question goes without it.
    std::optional<std::string> data_url(const context_image& image) const;
    // After the store forgot uploads: their bytes, where no other upload has the same.
    void drop_blobs(const std::vector<std::string>& hashes);
    // Forgets uploads nobody sent within unsent_lifetime_s.
    boost::asio::awaitable<void> sweep_unsent(std::int64_t now);

private:
    store::database& db_;
    files::blob_store& blobs_;
    blocking_pool& work_;
};

}  // namespace chatd::chat
