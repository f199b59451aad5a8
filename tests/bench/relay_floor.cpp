// A bare TCP relay between bench_stream's direct mode and the fake upstream: every piece read
// from one side is written to the other at once, and nothing is parsed, kept or saved. Its CPU
// per answer is the least any relay pays on this machine for the kernel's part of relaying (a
// wake-up, a read and a write per piece), the floor under chatd's figure. Plain epoll on
// purpose: no library's machinery between the system calls.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct side {
    int fd = -1;
    side* peer = nullptr;
    std::string unsent;  // what the peer sent that this side's socket would not take yet
    bool closed = false;
};

sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

void set_fast(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int listener(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);  // one listener per thread
    auto addr = loopback(port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 4096) != 0)
        die("listen");
    return fd;
}

class relay_loop {
public:
    relay_loop(int listen_fd, int upstream_port) : listen_fd_(listen_fd), upstream_port_(upstream_port) {
        epoll_ = epoll_create1(0);
        epoll_event ev{EPOLLIN, {.ptr = nullptr}};  // a null pointer is the listener
        epoll_ctl(epoll_, EPOLL_CTL_ADD, listen_fd_, &ev);
    }

    void run() {
        std::vector<epoll_event> events(512);
        std::vector<side*> dead;
        for (;;) {
            int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
            for (int i = 0; i < n; ++i) {
                auto* s = static_cast<side*>(events[i].data.ptr);
                if (!s) {
                    accept_all();
                    continue;
                }
                if (s->closed)
                    continue;
                if ((events[i].events & EPOLLOUT) && !flush(*s))
                    close_pair(*s, dead);
                else if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !pass_on(*s))
                    close_pair(*s, dead);
            }
            for (auto* d : dead)  // only now: later events of this batch may still name them
                delete d;
            dead.clear();
        }
    }

private:
    void watch(side& s, uint32_t what, int op) {
        epoll_event ev{what, {.ptr = &s}};
        epoll_ctl(epoll_, op, s.fd, &ev);
    }

    void accept_all() {
        for (;;) {
            int client = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK);
            if (client < 0)
                return;
            set_fast(client);
            auto* a = new side;
            a->fd = client;
            watch(*a, EPOLLIN, EPOLL_CTL_ADD);
        }
    }

    // The upstream side is connected when the client first sends, as a relay does per request:
    // clients connected ahead of their turn then hold one descriptor each, not two.
    bool connect_upstream(side& client) {
        int upstream = socket(AF_INET, SOCK_STREAM, 0);
        auto addr = loopback(upstream_port_);
        if (upstream < 0 || connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            std::perror("relay_floor: connect upstream");
            if (upstream >= 0)
                close(upstream);
            return false;
        }
        set_fast(upstream);
        auto* b = new side;
        b->fd = upstream;
        b->peer = &client;
        client.peer = b;
        watch(*b, EPOLLIN, EPOLL_CTL_ADD);
        return true;
    }

    // One read, and what it got goes to the peer at once; false when the pair is done.
    bool pass_on(side& from) {
        ssize_t got = recv(from.fd, buffer_, sizeof buffer_, 0);
        if (got < 0)
            return errno == EAGAIN || errno == EINTR;
        if (got == 0 || (!from.peer && !connect_upstream(from)))
            return false;
        side& to = *from.peer;
        if (!to.unsent.empty()) {
            to.unsent.append(buffer_, static_cast<size_t>(got));
            return true;
        }
        ssize_t put = send(to.fd, buffer_, static_cast<size_t>(got), MSG_NOSIGNAL);
        if (put < 0 && errno != EAGAIN)
            return false;
        put = put < 0 ? 0 : put;
        if (put < got) {
            to.unsent.assign(buffer_ + put, static_cast<size_t>(got - put));
            watch(to, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
        }
        return true;
    }

    bool flush(side& s) {
        ssize_t put = send(s.fd, s.unsent.data(), s.unsent.size(), MSG_NOSIGNAL);
        if (put < 0)
            return errno == EAGAIN;
        s.unsent.erase(0, static_cast<size_t>(put));
        if (s.unsent.empty())
            watch(s, EPOLLIN, EPOLL_CTL_MOD);
        return true;
    }

    void close_pair(side& s, std::vector<side*>& dead) {
        for (side* x : {&s, s.peer}) {
            if (!x)
                continue;
            x->closed = true;
            close(x->fd);  // also takes it out of the epoll set
            dead.push_back(x);
        }
    }

    int epoll_;
    int listen_fd_;
    int upstream_port_;
    char buffer_[64 * 1024];
};

}  // namespace

int main(int argc, char** argv) {
    int upstream_port = 0, threads = 2;
    std::string port_file;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string opt = argv[i];
        if (opt == "--upstream-port")
            upstream_port = std::atoi(argv[i + 1]);
        else if (opt == "--threads")
            threads = std::atoi(argv[i + 1]);
        else if (opt == "--port-file")
            port_file = argv[i + 1];
    }
    if (upstream_port <= 0 || port_file.empty() || threads < 1) {
        std::fprintf(stderr, "usage: relay_floor --upstream-port N --port-file FILE [--threads N]\n");
        return 2;
    }
    rlimit files{};  // an answer holds two sockets here too
    getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);

    int first = listener(0);
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    getsockname(first, reinterpret_cast<sockaddr*>(&bound), &len);
    int port = ntohs(bound.sin_port);
    std::vector<std::thread> loops;
    for (int t = 0; t < threads; ++t) {
        int fd = t == 0 ? first : listener(port);
        loops.emplace_back([fd, upstream_port] { relay_loop(fd, upstream_port).run(); });
    }
    std::ofstream(port_file + ".tmp") << port << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
    for (auto& t : loops)
        t.join();
}
