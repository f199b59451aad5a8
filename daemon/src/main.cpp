// chatd: options, --check-config and exit codes; everything else is in app.
#include <signal.h>

#include <filesystem>
#include <iostream>
#include <string_view>

#include "app.hpp"
#include "config/config.hpp"
#include "files/blob_store.hpp"
#include "store/postgres/copy_from_sqlite.hpp"
#include "store/postgres/pg.hpp"

namespace {

// `chatd migrate --to postgres URL --from FILE`, which `chatctl migrate` runs: the copy needs
// the database code, and the daemon's database is stopped while it runs.
int migrate(int argc, char** argv) {
    std::string url, file;
    bool to_postgres = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--to" && i + 2 < argc && std::string_view(argv[i + 1]) == "postgres") {
            to_postgres = true;
            url = argv[i + 2];
            i += 2;
        } else if (a == "--from" && i + 1 < argc) {
            file = argv[++i];
        } else {
            to_postgres = false;
            break;
        }
    }
    if (!to_postgres || url.empty() || file.empty()) {
        std::cerr << "usage: chatd migrate --to postgres URL --from FILE\n";
        return 2;
    }
    try {
        // Uploads' files sit beside the database file, as the daemon keeps them in data_dir.
        auto files = std::filesystem::absolute(file).parent_path() / "files";
        chatd::files::blob_store blobs(files);
        auto report = chatd::store::pg::copy_from_sqlite(
            file, url, [&blobs](const std::string& hash) -> std::optional<std::string> {
                if (!chatd::files::blob_store::valid_hash(hash)) return std::nullopt;
                return blobs.read(hash);
            }, files.string());
        std::cout << "copied " << file << " (schema version " << report.schema_version << ") into "
                  << chatd::store::pg::redact_url(url) << "\n";
        chatd::store::pg::print(report, std::cout);
        return 0;
    } catch (const chatd::store::pg::copy_refused& e) {
        std::cerr << "chatd migrate: refused: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "chatd migrate: " << e.what() << " (the target was left as it was)\n";
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string_view(argv[1]) == "migrate") return migrate(argc - 1, argv + 1);
    chatd::command_line cl;
    std::shared_ptr<const chatd::config> cfg;
    try {
        cfg = chatd::load_config(argc, argv, cl);
    } catch (const chatd::config_error& e) {
        std::cerr << "chatd: " << e.what() << "\n";
        return 2;
    }
    if (!cfg) return 0;  // --help or --version
    if (cl.check_only) {
        std::cout << "chatd: configuration OK" << (cfg->config_file.empty() ? "" : " (" + cfg->config_file + ")")
                  << "\n";
        return 0;
    }
    ::signal(SIGPIPE, SIG_IGN);
    try {
        chatd::app a(cfg, std::vector<std::string>(argv + 1, argv + argc));
        return a.run();
    } catch (const std::exception& e) {
        std::cerr << "chatd: " << e.what() << "\n";
        return 1;
    }
}
