#include "chat/attachments.hpp"

#include <algorithm>
#include <set>
#include <spdlog/spdlog.h>

#include "files/file_types.hpp"
#include "files/pdf_text.hpp"
#include "util/app_error.hpp"
#include "util/base64.hpp"
#include "util/random.hpp"
#include "util/text.hpp"
#include "util/unix_time.hpp"

namespace chatd::chat {

using boost::asio::awaitable;

namespace {

// A name to show and to put in the context: no path, no control characters, not too long.
std::string clean_name(std::string name) {
    if (auto slash = name.find_last_of("/\\"); slash != std::string::npos) name.erase(0, slash + 1);
    std::string out;
    for (unsigned char c : name)
        if (c >= 0x20 && c != 0x7f) out.push_back(static_cast<char>(c));
    if (!valid_utf8(out)) out.clear();
    out = std::string(utf8_prefix(trim(out), 200));
    return out.empty() ? "file" : out;
}

}  // namespace

awaitable<store::upload_row> attachments::add(store::id_t user_id, std::string name, std::string bytes) {
    store::upload_row u;
    u.user_id = user_id;
    u.name = clean_name(std::move(name));
    u.size = static_cast<std::int64_t>(bytes.size());
    // Sniffing, PDF text and hashing are CPU work: off the I/O threads.
    auto [type, text, hash] = co_await work_.run([&] {
        auto t = files::identify(u.name, bytes);
        if (!t)
            throw app_error("unsupported_type",
                            "不支持的文件类型 (only PNG, JPEG, WebP and GIF images, and text, Markdown, CSV, JSON, "
                            "source code and PDF files can be attached)");
        std::string extracted;
        if (t->pdf) extracted = files::pdf_text(bytes, max_text_chars);
        else if (t->kind == "file") extracted = std::string(utf8_prefix(bytes, max_text_chars * 4));
        if (t->kind == "file" && trim(extracted).empty())
            throw app_error("unsupported_type", "文件里没有可读的文字 (the file has no text to read)");
        return std::tuple{*t, std::move(extracted), blobs_.put(bytes)};
    });
    u.id = "f" + random_token(15);
    u.hash = std::move(hash);
    u.mime = type.mime;
    u.kind = type.kind;
    u.chars = static_cast<std::int64_t>(utf8_length(text));
    u.text = std::move(text);
    u.created_at = unix_now();
    co_await db_.run([u, shared = db_.shared(), bytes = std::move(bytes)](store::store& st) {
        if (shared) st.add_upload_with_blob(u, bytes);
        else st.add_upload(u);
        return 0;
    });
    u.text.clear();
    co_return u;
}

awaitable<std::optional<std::pair<store::upload_row, std::string>>> attachments::open(const store::user_row& viewer,
                                                                                      std::string id) {
    auto u = co_await db_.read([id](store::store& st) { return st.upload(id); });
    if (!u || (u->user_id != viewer.id && !viewer.is_admin)) co_return std::nullopt;
    auto bytes = co_await bytes_of(u->hash);
    if (!bytes) co_return std::nullopt;
    u->text.clear();
    co_return std::pair{std::move(*u), std::move(*bytes)};
}

awaitable<std::vector<store::upload_row>> attachments::for_question(store::id_t user_id,
                                                                    std::vector<std::string> ids) {
    if (ids.empty()) co_return std::vector<store::upload_row>{};
    if (ids.size() > max_images + max_files)
        throw app_error("invalid_params", "一次最多 4 张图片和 4 个文件 (at most 4 images and 4 files)");
    std::set<std::string> seen(ids.begin(), ids.end());
    if (seen.size() != ids.size()) throw app_error("invalid_params", "an attachment is named twice");
    auto rows = co_await db_.run([ids](store::store& st) {
        std::vector<std::optional<store::upload_row>> out;
        for (auto& id : ids) out.push_back(st.upload(id));
        return out;
    });
    std::vector<store::upload_row> out;
    std::size_t images = 0, files = 0;
    for (auto& r : rows) {
        if (!r || r->user_id != user_id) throw app_error("invalid_params", "no such attachment");
        (r->kind == "image" ? images : files)++;
        out.push_back(std::move(*r));
    }
    if (images > max_images || files > max_files)
        throw app_error("invalid_params", "一次最多 4 张图片和 4 个文件 (at most 4 images and 4 files)");
    co_return out;
}

awaitable<std::optional<std::string>> attachments::bytes_of(std::string hash) {
    auto local = co_await work_.run([this, hash] { return blobs_.read(hash); });
    if (local || !db_.shared()) co_return local;
    auto stored = co_await db_.read([hash](store::store& st) { return st.blob(hash); });
    if (!stored) co_return std::nullopt;
    bool whole = co_await work_.run([this, &stored, &hash] {
        try {
            return blobs_.put(*stored) == hash;
        } catch (const std::exception& e) {
            // A cache that cannot be written (a full disk) costs a fetch next time, no more.
            spdlog::warn("could not keep a copy of file {} in the file store: {}", hash, e.what());
            return true;
        }
    });
    if (!whole) {
        spdlog::error("the database's bytes for file {} do not match its hash", hash);
        co_return std::nullopt;
    }
    co_return stored;
}

awaitable<std::optional<std::string>> attachments::data_url(context_image image) {
    try {
        auto bytes = co_await bytes_of(image.hash);
        if (!bytes) {
            spdlog::error("an attached image ({}) is missing from the file store", image.hash);
            co_return std::nullopt;
        }
        co_return co_await work_.run([&] { return "data:" + image.mime + ";base64," + base64_encode(*bytes); });
    } catch (const std::exception& e) {
        // The answer has started and been charged: it goes without the image rather than fail.
        spdlog::error("an attached image ({}) could not be read: {}", image.hash, e.what());
        co_return std::nullopt;
    }
}

namespace {

// Each NOTIFY carries at most 8,000 bytes: a hundred hashes (65 bytes each) an announcement.
constexpr std::size_t hashes_per_announcement = 100;

void remove_copies(files::blob_store& blobs, const std::vector<std::string>& hashes) {
    for (const auto& h : hashes) {
        try {
            blobs.remove(h);
        } catch (const std::exception& e) {
            spdlog::warn("could not remove file {} from the file store: {}", h, e.what());
        }
    }
}

}  // namespace

awaitable<void> attachments::drop_blobs(std::vector<std::string> hashes) {
    if (hashes.empty()) co_return;
    co_await work_.run([this, &hashes] {
        remove_copies(blobs_, hashes);
        return 0;
    });
    if (!db_.shared()) co_return;
    for (std::size_t i = 0; i < hashes.size(); i += hashes_per_announcement) {
        std::string detail;
        for (std::size_t k = i; k < std::min(hashes.size(), i + hashes_per_announcement); ++k)
            detail += (detail.empty() ? "" : ",") + hashes[k];
        db_.announce(store::news::files_dropped, std::move(detail));
    }
}

void attachments::listen_for_news() {
    db_.on_news(store::news::files_dropped, [this](std::string_view detail) {
        // Only hashes count: any_news ("anything may have changed") names no file to drop, and
        // a copy missed that way is at worst a cached file of bytes nobody can ask for.
        std::vector<std::string> hashes;
        for (std::size_t start = 0; start <= detail.size();) {
            auto end = std::min(detail.find(',', start), detail.size());
            if (auto h = detail.substr(start, end - start); files::blob_store::valid_hash(h)) hashes.emplace_back(h);
            start = end + 1;
        }
        if (!hashes.empty()) work_.post([this, hashes = std::move(hashes)] { remove_copies(blobs_, hashes); });
    });
}

awaitable<void> attachments::sweep_unsent(std::int64_t now) {
    if (!co_await db_.leads(store::background_job::upload_sweep)) co_return;
    auto unused = co_await db_.run([before = now - unsent_lifetime_s](store::store& st) {
        return st.forget_unsent_uploads(before);
    });
    if (!unused.empty()) spdlog::debug("forgot {} unsent upload(s)", unused.size());
    co_await drop_blobs(std::move(unused));
}

}  // namespace chatd::chat
