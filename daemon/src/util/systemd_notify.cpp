#include "util/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace chatd {

void systemd_notify(std::string_view state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::size_t len = std::strlen(path);
    if (len >= sizeof(addr.sun_path)) return;
    std::memcpy(addr.sun_path, path, len);
    // A leading '@' names an abstract socket: its first byte is NUL on the wire.
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
    [[maybe_unused]] auto sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                                          reinterpret_cast<sockaddr*>(&addr), addr_len);
    ::close(fd);
}

}  // namespace chatd
