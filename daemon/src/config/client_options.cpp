#include "config/client_options.hpp"

namespace chatd {

upstream::client_options provider_client_options(const config& c) {
    upstream::client_options o;
    o.proxy = c.upstream.proxy;
    o.ca_file = c.upstream.ca_file;
    o.connect_timeout = std::chrono::seconds(c.upstream.connect_timeout);
    o.first_byte_timeout = std::chrono::seconds(c.upstream.first_byte_timeout);
    o.idle_timeout = std::chrono::seconds(c.upstream.idle_timeout);
    // chatd's streams write at most this often anyway: reading faster would only cost wake-ups.
    o.stream_read_gap = std::chrono::milliseconds(c.stream_flush_ms);
    return o;
}

upstream::client_options direct_client_options(const config& c) {
    auto o = provider_client_options(c);
    o.proxy.clear();
    o.first_byte_timeout = o.idle_timeout = std::chrono::seconds(10);
    return o;
}

}  // namespace chatd
