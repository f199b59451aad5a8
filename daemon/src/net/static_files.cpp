#include "net/static_files.hpp"

#include <filesystem>
#include <map>

namespace chatd::net {
namespace fs = std::filesystem;

namespace {

std::string mime_type(const std::string& ext) {
    static const std::map<std::string, std::string> types = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},  {".svg", "image/svg+xml"},   {".png", "image/png"},
        {".jpg", "image/jpeg"},         {".jpeg", "image/jpeg"},     {".gif", "image/gif"},
        {".webp", "image/webp"},        {".ico", "image/x-icon"},    {".woff", "font/woff"},
        {".woff2", "font/woff2"},       {".ttf", "font/ttf"},        {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},   {".webmanifest", "application/manifest+json"},
    };
    auto it = types.find(ext);
    return it == types.end() ? "application/octet-stream" : it->second;
}

bool accepts(std::string_view accept_encoding, std::string_view coding) {
    std::size_t pos = 0;
    while ((pos = accept_encoding.find(coding, pos)) != std::string_view::npos) {
        bool start = pos == 0 || accept_encoding[pos - 1] == ' ' || accept_encoding[pos - 1] == ',';
        auto end = pos + coding.size();
        bool stop = end == accept_encoding.size() || accept_encoding[end] == ',' ||
                    accept_encoding[end] == ';' || accept_encoding[end] == ' ';
        if (start && stop) return accept_encoding.substr(end, 4) != ";q=0";
        pos = end;
    }
    return false;
}

}  // namespace

void add_page_security_headers(response& r, const std::string& image_origin) {
    std::string images = image_origin.empty() ? std::string() : " " + image_origin;
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data: blob:" + images +
                               "; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
                               "frame-ancestors 'none'; form-action 'self'; manifest-src 'self'; worker-src 'self'");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Referrer-Policy", "same-origin");
}

static_files::static_files(std::string root) : root_(std::move(root)) {}

response static_files::serve(const request& req, const std::string& image_origin) const {
    response r;
    if (req.method != "GET" && req.method != "HEAD") {
        r.status = 405;
        r.body = R"({"error":"method not allowed"})";
        r.headers.emplace_back("Allow", "GET, HEAD");
        return r;
    }
    const std::string& path = req.path;
    // Reject anything that could climb out of the root before touching the file system.
    bool bad = path.empty() || path[0] != '/' || path.find('\0') != std::string::npos ||
               path.find('\\') != std::string::npos;
    for (std::size_t pos = 0; !bad && pos < path.size();) {
        auto next = path.find('/', pos + 1);
        auto seg = path.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
        if (seg == ".." || seg == ".") bad = true;
        if (next == std::string::npos) break;
        pos = next;
    }
    if (bad) {
        r.status = 400;
        r.body = R"({"error":"bad path"})";
        return r;
    }

    // Always relative to the root: "//etc/passwd" would otherwise be an absolute path, and
    // whether such a file exists must not show in the answer.
    fs::path root = fs::path(root_);
    auto first = path.find_first_not_of('/');
    std::string relative = first == std::string::npos ? std::string() : path.substr(first);
    fs::path file = root / fs::path(relative);
    std::error_code ec;
    bool is_asset = path.starts_with("/assets/");
    if (relative.empty() || !fs::is_regular_file(file, ec)) {
        // Hashed assets that do not exist are real 404s; other routes belong to the SPA.
        if (is_asset || fs::path(path).has_extension()) {
            r.status = 404;
            r.body = R"({"error":"not found"})";
            return r;
        }
        file = root / "index.html";
        if (!fs::is_regular_file(file, ec)) {
            r.status = 404;
            r.content_type = "text/plain; charset=utf-8";
            r.body = "chatd: the web UI is not built (webui_dir " + root_ + " has no index.html)\n";
            return r;
        }
    }
    // Resolve links too: the final file must still live under the root.
    auto canon = fs::weakly_canonical(file, ec);
    auto canon_root = fs::weakly_canonical(root, ec);
    auto rel = canon.lexically_relative(canon_root);
    if (ec || rel.empty() || *rel.begin() == "..") {
        r.status = 404;
        r.body = R"({"error":"not found"})";
        return r;
    }

    std::string ext = canon.extension().string();
    r.content_type = mime_type(ext);
    r.file_path = canon.string();
    if (ext == ".html") {
        r.headers.emplace_back("Cache-Control", "no-cache");
        add_page_security_headers(r, image_origin);
    } else if (path == "/sw.js") {
        // A service worker's script is checked for updates on every visit.
        r.headers.emplace_back("Cache-Control", "no-cache");
    } else if (is_asset) {
        r.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
    } else {
        r.headers.emplace_back("Cache-Control", "public, max-age=3600");
    }
    auto ae = req.header("accept-encoding");
    for (auto [coding, suffix] : {std::pair{"br", ".br"}, {"gzip", ".gz"}}) {
        if (!accepts(ae, coding)) continue;
        std::string pre = r.file_path + suffix;
        if (fs::is_regular_file(pre, ec)) {
            r.file_path = pre;
            r.headers.emplace_back("Content-Encoding", coding);
            break;
        }
    }
    r.headers.emplace_back("Vary", "Accept-Encoding");
    return r;
}

}  // namespace chatd::net
