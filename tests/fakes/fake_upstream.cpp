// An OpenAI-compatible upstream for integration tests and benchmarks. The API key picks the
// behaviour (`PREFIX:behaviour:opt=value...`), so one process can play healthy, failing and
// misbehaving providers at once. See tests/fakes/README.md. This file holds the command line and
// the listening socket; the answers are in fake_upstream_{plan,answer,replies,server}.cpp.

#include "fake_upstream_server.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/program_options.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace chatd::fake {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr int concurrent_accepts = 32;

void raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

void write_port_file(const std::string& path, unsigned short port) {
    auto tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << port << '\n';
        if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path);
}

tcp::endpoint resolve_listen(asio::io_context& ioc, const std::string& listen) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("--listen wants HOST:PORT");
    auto host = listen.substr(0, colon);
    auto port = listen.substr(colon + 1);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(host, port, tcp::resolver::passive);
    if (results.empty()) throw std::runtime_error("cannot resolve " + listen);
    return *results.begin();
}

}  // namespace

int run(int argc, char** argv) {
    namespace po = boost::program_options;
    std::string listen, port_file, cert, key, text;
    int threads = 2;
    int delay = 0, first_delay = 0;
    server srv;
    po::options_description desc("fake_upstream options");
    desc.add_options()("help,h", "show this help")(
        "listen", po::value(&listen)->default_value("127.0.0.1:0"), "HOST:PORT (port 0 = any)")(
        "port-file", po::value(&port_file), "write the bound port here")(
        "threads", po::value(&threads)->default_value(2), "I/O threads")(
        "tls-cert", po::value(&cert), "PEM certificate chain; serve HTTPS")(
        "tls-key", po::value(&key), "PEM private key")(
        "text", po::value(&text)->default_value("The quick brown fox jumps over the lazy dog."),
        "answer words, cycled to make tokens")(
        "tokens", po::value(&srv.answer.token_count)->default_value(20), "tokens per answer")(
        "delay-ms", po::value(&delay)->default_value(0), "milliseconds between tokens")(
        "first-delay-ms", po::value(&first_delay)->default_value(0),
        "milliseconds before the first content token");
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
        std::cout << desc << '\n';
        return 0;
    }
    po::notify(vm);
    if (cert.empty() != key.empty()) throw std::runtime_error("--tls-cert needs --tls-key");
    srv.answer.delay = ms{delay};
    srv.answer.first_delay = ms{first_delay};
    for (std::size_t start = 0; start < text.size();) {
        auto end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        if (end > start) srv.answer.tokens.push_back(text.substr(start, end - start) + ' ');
        start = end + 1;
    }

    raise_fd_limit();
    threads = std::max(1, threads);
    asio::io_context ioc(threads);
    std::optional<ssl::context> tls;
    if (!cert.empty()) {
        tls.emplace(ssl::context::tls_server);
        tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1);
        tls->use_certificate_chain_file(cert);
        tls->use_private_key_file(key, ssl::context::pem);
    }

    auto endpoint = resolve_listen(ioc, listen);
    tcp::acceptor acceptor(ioc);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    auto bound = acceptor.local_endpoint();
    if (!port_file.empty()) write_port_file(port_file, bound.port());
    auto host = bound.address().to_string();
    if (bound.address().is_v6()) host = "[" + host + "]";
    std::cout << "fake_upstream listening on " << host << ':' << bound.port() << std::endl;

    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](auto, int) { ioc.stop(); });
    // Several accepts wait at once, so that one readiness of the listening socket takes a whole
    // burst of connections: a lone accept runs once per turn of a loop busy with thousands of
    // streams, and connections then wait in the listen queue.
    for (int i = 0; i < concurrent_accepts; ++i)
        asio::co_spawn(ioc, accept_loop(acceptor, srv, tls ? &*tls : nullptr), asio::detached);

    std::vector<std::jthread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    return 0;
}

}  // namespace chatd::fake

int main(int argc, char** argv) {
    try {
        return chatd::fake::run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "fake_upstream: " << e.what() << '\n';
        return 2;
    }
}
