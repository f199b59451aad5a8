#include "store/postgres/dump.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string_view>
#include <memory>
#include <vector>

#include "util/app_error.hpp"

namespace chatd::store::pg {

namespace {

// libpq's connection settings as pg_dump's environment variables.
std::map<std::string, std::string> environment_of(connection& c) {
    static const std::map<std::string, std::string> names = {
        {"host", "PGHOST"},           {"hostaddr", "PGHOSTADDR"}, {"port", "PGPORT"},
        {"dbname", "PGDATABASE"},     {"user", "PGUSER"},         {"password", "PGPASSWORD"},
        {"sslmode", "PGSSLMODE"},     {"sslrootcert", "PGSSLROOTCERT"},
        {"sslcert", "PGSSLCERT"},     {"sslkey", "PGSSLKEY"},     {"connect_timeout", "PGCONNECT_TIMEOUT"}};
    std::map<std::string, std::string> env;
    std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> info(PQconninfo(c.handle()), &PQconninfoFree);
    for (auto* o = info.get(); o && o->keyword; ++o) {
        auto it = names.find(o->keyword);
        if (it != names.end() && o->val && *o->val) env[it->second] = o->val;
    }
    return env;
}

// pg_dump on $PATH (Debian's wrapper picks the version that matches the server).
std::string pg_dump_path() {
    const char* path = std::getenv("PATH");
    std::string dirs = path && *path ? path : "/usr/bin:/bin";
    for (std::size_t start = 0; start <= dirs.size();) {
        auto end = std::min(dirs.find(':', start), dirs.size());
        auto candidate = std::filesystem::path(dirs.substr(start, end - start)) / "pg_dump";
        if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
        start = end + 1;
    }
    throw app_error("internal_error", "pg_dump not found on PATH (install the Debian package postgresql-client)");
}

}  // namespace

std::int64_t dump(connection& c, const std::string& path) {
    if (std::filesystem::exists(path)) throw app_error("invalid_params", "file exists: " + path);
    // Everything the child needs is made here: after fork it may only call what is async-signal-safe.
    const std::string program = pg_dump_path();
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "PG", 2) != 0) env_strings.emplace_back(*e);
    for (const auto& [k, v] : environment_of(c)) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string file = "--file=" + path;
    const char* argv[] = {program.c_str(), "--format=custom", "--no-password", file.c_str(), nullptr};
    constexpr std::string_view exec_failed = "cannot run pg_dump\n";

    int err[2];
    if (::pipe2(err, O_CLOEXEC) != 0) throw app_error("internal_error", std::string("pipe: ") + std::strerror(errno));
    pid_t child = ::fork();
    if (child == 0) {
        ::dup2(err[1], STDERR_FILENO);
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, STDIN_FILENO);
        ::dup2(null, STDOUT_FILENO);
        ::execve(program.c_str(), const_cast<char* const*>(argv), envp.data());
        (void)!::write(STDERR_FILENO, exec_failed.data(), exec_failed.size());
        ::_exit(127);
    }
    ::close(err[1]);
    if (child < 0) {
        ::close(err[0]);
        throw app_error("internal_error", std::string("fork: ") + std::strerror(errno));
    }
    std::string said;
    char buf[4096];
    for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        if (said.size() < 4096) said.append(buf, static_cast<std::size_t>(n));
    }
    ::close(err[0]);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::error_code ec;
        std::filesystem::remove(path, ec);
        while (!said.empty() && said.back() == '\n') said.pop_back();
        throw app_error("internal_error", "pg_dump failed: " + (said.empty() ? std::string("no reason given") : said));
    }
    return static_cast<std::int64_t>(std::filesystem::file_size(path));
}

}  // namespace chatd::store::pg
