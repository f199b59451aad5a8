#pragma once
// The SPA's files: hashed assets served immutable (precompressed variants when present),
// index.html for every other route, and nothing outside webui_dir.
#include <string>

#include "net/http.hpp"

namespace chatd::net {

class static_files {
public:
    explicit static_files(std::string root);
    // `image_origin`: one more origin HTML pages may load images from (the operator's logo).
    response serve(const request& req, const std::string& image_origin = {}) const;

private:
    std::string root_;
};

// Security headers every HTML page carries (strict CSP: no inline script); images also from
// `image_origin` when given ("https://host[:port]", already checked).
void add_page_security_headers(response& r, const std::string& image_origin = {});

}  // namespace chatd::net
