// Users' uploads at the door (CONTRACT §10): POST /api/upload (multipart, one part named
// "file") and GET /api/files/{id} for the upload's owner or an admin.
#include <boost/json.hpp>

#include "auth/auth_service.hpp"
#include "chat/attachments.hpp"
#include "files/multipart.hpp"
#include "rpc/services.hpp"
#include "util/app_error.hpp"
#include "util/reasons.hpp"
#include "web/front_end.hpp"

namespace chatd::web {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

net::response error_response(std::string_view reason, std::string_view message) {
    int status = reason == "unauthorized"       ? 401
                 : reason == "too_large"        ? 413
                 : reason == "unsupported_type" ? 415
                 : reason == "invalid_params"   ? 400
                 : reason == "not_found"        ? 404
                 : reason == "storage_full"     ? 507
                                                : 500;
    if (message.empty())
        if (auto* r = find_reason(reason)) message = r->message;
    json::object body{{"error", json::object{{"reason", reason}, {"message", message}}}};
    return net::json_response(status, json::serialize(body));
}

// A filename for Content-Disposition: RFC 6266's filename* (UTF-8, percent-encoded), which
// no quote or line break in the name can escape from.
std::string disposition(std::string_view kind, std::string_view name) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out = std::string(kind) + "; filename*=UTF-8''";
    for (unsigned char c : name) {
        if (std::isalnum(c) || c == '.' || c == '-' || c == '_') out.push_back(static_cast<char>(c));
        else out.append({'%', hex[c >> 4], hex[c & 15]});
    }
    return out;
}

}  // namespace

net::server_limits front_end::limits() const {
    net::server_limits l;
    l.larger_body = [config = p_.config](std::string_view method, std::string_view path) -> std::optional<net::body_allowance> {
        // A question through the API may carry up to 4 images inline, as base64 data URLs.
        if (method == "POST" && path == "/v1/chat/completions")
            return net::body_allowance{static_cast<std::size_t>(config()->uploads.max_bytes) * 6 + (1 << 20),
                                       std::chrono::seconds(120)};
        if (method != "POST" || path != "/api/upload") return std::nullopt;
        // The file and the multipart framing around it; slow phone uplinks get five minutes.
        return net::body_allowance{static_cast<std::size_t>(config()->uploads.max_bytes) + 64 * 1024,
                                   std::chrono::seconds(300)};
    };
    return l;
}

awaitable<void> front_end::handle_upload(net::request& req, net::responder& r) {
    std::string token_hash;
    auto user = co_await p_.auth.resolve(req.header("cookie"), token_hash);
    if (!user || user->banned) {
        co_await r.send(error_response("unauthorized", ""));
        co_return;
    }
    std::optional<net::response> refusal;
    try {
        auto parts = files::parse_multipart(req.header("content-type"), req.body);
        const files::form_part* file = nullptr;
        for (const auto& part : parts)
            if (part.name == "file") {
                if (file) throw app_error("invalid_params", "send one part named 'file'");
                file = &part;
            }
        if (!file) throw app_error("invalid_params", "send the file as a multipart/form-data part named 'file'");
        auto most = static_cast<std::size_t>(p_.config()->uploads.max_bytes);
        if (file->body.size() > most)
            throw app_error("too_large", "文件太大 (the file is over " + std::to_string(most) + " bytes)");
        if (file->body.empty()) throw app_error("invalid_params", "the file is empty");
        auto upload = co_await p_.uploads.add(user->id, file->filename, std::string(file->body));
        co_await r.send(net::json_response(200, json::serialize(rpc::attachment_json(upload))));
        co_return;
    } catch (const app_error& e) {
        refusal = error_response(e.reason, e.what());
    }
    co_await r.send(std::move(*refusal));
}

awaitable<void> front_end::handle_file(net::request& req, net::responder& r, std::string_view id) {
    std::string token_hash;
    auto user = co_await p_.auth.resolve(req.header("cookie"), token_hash);
    if (!user || user->banned) {
        co_await r.send(error_response("unauthorized", ""));
        co_return;
    }
    auto found = co_await p_.uploads.open(*user, std::string(id));
    if (!found) {
        co_await r.send(error_response("not_found", "no such file"));
        co_return;
    }
    auto& [upload, bytes] = *found;
    net::response res;
    // Images show inline; any other file is a download and never rendered by the browser as a
    // page of this site (nosniff, a sandboxing CSP).
    bool image = upload.kind == "image";
    res.content_type = image ? upload.mime : upload.mime.starts_with("text/") ? "text/plain; charset=utf-8" : upload.mime;
    res.body = std::move(bytes);
    res.headers = {{"Cache-Control", "private, max-age=86400"},
                   {"X-Content-Type-Options", "nosniff"},
                   // The browser's own image viewer styles the page inline; nothing else may run.
                   {"Content-Security-Policy",
                    image ? "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
                          : "default-src 'none'; sandbox"},
                   {"Content-Disposition", disposition(image ? "inline" : "attachment", upload.name)}};
    co_await r.send(std::move(res));
}

}  // namespace chatd::web
