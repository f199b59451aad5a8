#pragma once
// The SPA's files: hashed assets served immutable (precompressed variants when present),
// index.html for every other route, and nothing outside webui_dir.
#include <string>

#include "net/http.hpp"

namespace chatd::net {

class static_files {
public:
    explicit static_files(std::string root);
    response serve(const request& req) const;

private:
    std::string root_;
};

// Security headers every HTML page carries (strict CSP: no inline script).
void add_page_security_headers(response& r);

}  // namespace chatd::net
