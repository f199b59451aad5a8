#include "config/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "config/ini_file.hpp"
#include "upstream/url.hpp"
#include "util/option_error.hpp"
#include "util/text.hpp"
#include "util/text_wrap.hpp"

namespace chatd {
namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

// Every key, bound to its field. The names are the contract's (CONTRACT.md §2).
po::options_description config_options(config& c, std::string& password_flag) {
    po::options_description d;
    auto s = [](std::string& v) { return po::value<std::string>(&v)->default_value(v); };
    auto i = [](int& v) { return po::value<int>(&v)->default_value(v); };
    d.add_options()
        ("listen", s(c.listen), "host:port of the public HTTP listener")
        ("admin_socket", s(c.admin_socket), "admin Unix socket path (mode 0660)")
        ("data_dir", s(c.data_dir), "directory holding chatd.db")
        ("webui_dir", s(c.webui_dir), "built SPA files")
        ("public_url", s(c.public_url), "public origin, e.g. https://chat.example.com")
        ("trusted_proxies", s(c.trusted_proxies),
         "CIDR ranges of reverse proxies whose X-Forwarded-For is believed")
        ("threads", i(c.threads), "I/O threads; 0 = number of cores")
        ("log_level", s(c.log_level), "trace|debug|info|warn|error|critical|off")
        ("drain_timeout", i(c.drain_timeout), "seconds SIGTERM waits for answers in flight")
        ("stream_flush_ms", i(c.stream_flush_ms),
         "a live answer's stream writes at most this often, its first text at once; 0 = each piece as it comes")
        ("upstream.base_url", s(c.upstream.base_url), "default base URL for keys added without one")
        ("upstream.proxy", s(c.upstream.proxy), "http://host:port CONNECT proxy")
        ("upstream.ca_file", s(c.upstream.ca_file), "extra trusted CA bundle (PEM)")
        ("upstream.connect_timeout", i(c.upstream.connect_timeout), "seconds")
        ("upstream.first_byte_timeout", i(c.upstream.first_byte_timeout), "seconds")
        ("upstream.idle_timeout", i(c.upstream.idle_timeout), "max seconds between chunks")
        ("upstream.max_attempts", i(c.upstream.max_attempts), "distinct keys tried before the first token")
        ("wechat.mode", s(c.wechat.mode), "off | qr | code")
        ("wechat.appid", s(c.wechat.appid), "")
        ("wechat.secret", s(c.wechat.secret), "")
        ("wechat.token", s(c.wechat.token), "")
        ("wechat.encoding_aes_key", s(c.wechat.encoding_aes_key), "set: safe (AES) mode accepted")
        ("wechat.previous_encoding_aes_key", s(c.wechat.previous_encoding_aes_key),
         "the key before the last change, accepted while WeChat still uses it")
        ("wechat.api_base", s(c.wechat.api_base), "")
        ("wechat.code_keyword", s(c.wechat.code_keyword), "")
        ("wechat.account_qr_url", s(c.wechat.account_qr_url), "code mode: the link inside the account's QR code")
        ("auth.password", po::value<std::string>(&password_flag)->default_value("off"), "on | off")
        ("auth.session_days", i(c.auth.session_days), "")
        ("billing.trial_questions", i(c.billing.trial_questions), "")
        ("billing.free_if_slower_than", i(c.billing.free_if_slower_than), "seconds; 0 = off")
        ("uploads.max_bytes", i(c.uploads.max_bytes), "largest image or file a user may attach")
        ("store.backend", s(c.store.backend), "sqlite | postgres")
        ("store.postgres_url", s(c.store.postgres_url), "postgresql://user:password@host:5432/chatd")
        ("store.postgres_pool", i(c.store.postgres_pool), "PostgreSQL connections of this instance")
        ("store.instance_timeout", i(c.store.instance_timeout), "seconds unseen before an instance counts as dead")
        ("pay.order_minutes", i(c.pay.order_minutes), "unpaid orders close after this")
        ("pay.wechat.mchid", s(c.pay.wechat.mchid), "WeChat Pay merchant id; set: the channel is offered")
        ("pay.wechat.appid", s(c.pay.wechat.appid), "")
        ("pay.wechat.api_v3_key", s(c.pay.wechat.api_v3_key), "32 bytes; decrypts notifications")
        ("pay.wechat.serial_no", s(c.pay.wechat.serial_no), "merchant certificate serial")
        ("pay.wechat.private_key_file", s(c.pay.wechat.private_key_file), "merchant API private key (PEM)")
        ("pay.wechat.platform_public_key_file", s(c.pay.wechat.platform_public_key_file),
         "WeChat Pay public key (PEM)")
        ("pay.wechat.platform_public_key_id", s(c.pay.wechat.platform_public_key_id), "its id (Wechatpay-Serial)")
        ("pay.wechat.api_base", s(c.pay.wechat.api_base), "")
        ("pay.alipay.app_id", s(c.pay.alipay.app_id), "Alipay app id; set: the channel is offered")
        ("pay.alipay.private_key_file", s(c.pay.alipay.private_key_file), "app private key (PEM), RSA2")
        ("pay.alipay.alipay_public_key_file", s(c.pay.alipay.alipay_public_key_file), "Alipay public key (PEM)")
        ("pay.alipay.gateway", s(c.pay.alipay.gateway), "")
        ("pay.epay.pid", s(c.pay.epay.pid), "epay merchant id; set: the channel is offered")
        ("pay.epay.key", s(c.pay.epay.key), "epay merchant key (MD5 signatures)")
        ("pay.epay.api_base", s(c.pay.epay.api_base), "https://pay.example.com/ (submit.php, mapi.php, api.php)")
        ("pay.epay.types", s(c.pay.epay.types), "alipay,wxpay (what the provider takes)")
        ("limits.answers_in_flight", i(c.limits.answers_in_flight), "per user")
        ("limits.questions_per_minute", i(c.limits.questions_per_minute), "per user")
        ("limits.signups_per_hour", i(c.limits.signups_per_hour), "per client IP")
        ("limits.login_attempts_per_15min", i(c.limits.login_attempts_per_15min), "per username and per IP");
    return d;
}

// Where a key's value came from, for messages: the command line, or the file and its line.
struct origins {
    std::string file;
    std::map<std::string, int> file_lines;
    std::set<std::string> command_line;

    std::string where(const std::string& key) const {
        if (command_line.contains(key)) return "option --" + key;
        if (auto it = file_lines.find(key); it != file_lines.end())
            return file + ":" + std::to_string(it->second) + ": key '" + key + "'";
        return "key '" + key + "' (not set)";
    }
};

// An option's default as text, or "" when it has none or it is empty.
std::string default_text(const po::option_description& option) {
    boost::any value;
    if (!option.semantic()->apply_default(value)) return {};
    if (auto* text = boost::any_cast<std::string>(&value)) return *text;
    if (auto* number = boost::any_cast<int>(&value)) return std::to_string(*number);
    return {};
}

// One group of options, each with its description in a column, wrapped between words to the
// terminal's width like chatctl's help (Program_options' own printer cuts words).
void print_options(std::ostream& out, std::string_view caption, const po::options_description& group,
                   std::size_t width) {
    const std::size_t column = std::min<std::size_t>(34, width / 2);
    out << wrap(std::string(caption) + ":", width);
    for (const auto& option : group.options()) {
        // "-h [ --help ]" as "-h, --help".
        std::string term = "  ";
        if (const auto formatted = option->format_name(); formatted.starts_with("-") && !formatted.starts_with("--"))
            term += formatted.substr(0, formatted.find(' ')) + ", ";
        term += "--" + option->long_name();
        if (option->semantic()->max_tokens() > 0) term += option->long_name() == "config" ? " FILE" : " VALUE";
        std::string description = option->description();
        if (auto fallback = default_text(*option); !fallback.empty())
            description += (description.empty() ? "" : "; ") + std::string("default: ") + fallback;
        out << wrap_entry(term, description, width, column, 6);
    }
}

bool parse_bool(const std::string& v, bool& out) {
    if (v == "on" || v == "true" || v == "yes" || v == "1") return out = true, true;
    if (v == "off" || v == "false" || v == "no" || v == "0") return out = false, true;
    return false;
}

using complaint = std::function<void(const std::string& key, const std::string& why)>;

// A channel is all there or not at all: half a section is a typo to report, not a channel to
// offer. Notifications need a public URL to be sent to.
void validate_pay(const decltype(config::pay)& pay, bool has_public_url, const complaint& bad) {
    if (pay.order_minutes < 1 || pay.order_minutes > 1440) bad("pay.order_minutes", "expected 1..1440");
    auto require = [&](bool configured, std::string_view section,
                       std::initializer_list<std::pair<const char*, const std::string*>> keys) {
        bool any = false;
        for (auto [key, value] : keys) any = any || !value->empty();
        if (!any) return;
        for (auto [key, value] : keys)
            if (value->empty()) bad(std::string(section) + "." + key, "required to offer this channel");
        if (configured && !has_public_url)
            bad("public_url", "required for payment notifications (" + std::string(section) + ")");
    };
    const auto& w = pay.wechat;
    require(w.configured(), "pay.wechat",
            {{"mchid", &w.mchid}, {"appid", &w.appid}, {"api_v3_key", &w.api_v3_key}, {"serial_no", &w.serial_no},
             {"private_key_file", &w.private_key_file}, {"platform_public_key_file", &w.platform_public_key_file},
             {"platform_public_key_id", &w.platform_public_key_id}});
    if (w.configured() && w.api_v3_key.size() != 32) bad("pay.wechat.api_v3_key", "expected 32 bytes");
    const auto& a = pay.alipay;
    require(a.configured(), "pay.alipay",
            {{"app_id", &a.app_id}, {"private_key_file", &a.private_key_file},
             {"alipay_public_key_file", &a.alipay_public_key_file}});
    const auto& e = pay.epay;
    require(e.configured(), "pay.epay", {{"pid", &e.pid}, {"key", &e.key}, {"api_base", &e.api_base}});
    for (auto [key, url] : {std::pair{"pay.wechat.api_base", &w.api_base}, {"pay.alipay.gateway", &a.gateway}})
        if (!upstream::parse_url(*url)) bad(key, "expected an http:// or https:// URL");
    if (e.configured() && !upstream::parse_url(e.api_base)) bad("pay.epay.api_base", "expected an http:// or https:// URL");
    for (const auto& type : split_list(e.types))
        if (type != "alipay" && type != "wxpay") bad("pay.epay.types", "expected alipay, wxpay or both");
}

void validate(config& c, const std::string& password_flag, const origins& from) {
    auto bad = [&](const std::string& key, const std::string& why) {
        throw config_error(from.where(key) + ": " + why);
    };
    if (!parse_bool(password_flag, c.auth.password)) bad("auth.password", "expected on or off");
    auto colon = c.listen.rfind(':');
    if (colon == std::string::npos || colon + 1 == c.listen.size())
        bad("listen", "expected host:port, got '" + c.listen + "'");
    try {
        auto port = std::stoul(c.listen.substr(colon + 1));
        if (port > 65535) throw std::out_of_range("port");
    } catch (const std::exception&) {
        bad("listen", "invalid port in '" + c.listen + "'");
    }
    if (c.admin_socket.empty()) bad("admin_socket", "must not be empty");
    if (c.data_dir.empty()) bad("data_dir", "must not be empty");
    try {
        c.trusted_proxy_ranges = parse_ip_ranges(c.trusted_proxies);
    } catch (const std::invalid_argument& e) {
        bad("trusted_proxies", e.what());
    }
    if (c.threads < 0 || c.threads > 256) bad("threads", "expected 0..256");
    static const char* levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (std::find(std::begin(levels), std::end(levels), c.log_level) == std::end(levels))
        bad("log_level", "expected one of trace, debug, info, warn, error, critical, off");
    if (c.drain_timeout < 0 || c.drain_timeout > 3600) bad("drain_timeout", "expected 0..3600");
    if (c.stream_flush_ms < 0 || c.stream_flush_ms > 1000) bad("stream_flush_ms", "expected 0..1000");
    if (!c.public_url.empty() && !c.public_url.starts_with("http://") &&
        !c.public_url.starts_with("https://"))
        bad("public_url", "expected an http:// or https:// URL");
    if (!c.upstream.base_url.starts_with("http://") && !c.upstream.base_url.starts_with("https://"))
        bad("upstream.base_url", "expected an http:// or https:// URL");
    if (!c.upstream.proxy.empty() && !c.upstream.proxy.starts_with("http://"))
        bad("upstream.proxy", "expected http://host:port");
    if (!c.upstream.ca_file.empty() && !fs::exists(c.upstream.ca_file))
        bad("upstream.ca_file", "file not found: " + c.upstream.ca_file);
    for (auto [key, v] : {std::pair{"upstream.connect_timeout", c.upstream.connect_timeout},
                          {"upstream.first_byte_timeout", c.upstream.first_byte_timeout},
                          {"upstream.idle_timeout", c.upstream.idle_timeout}})
        if (v < 1 || v > 3600) bad(key, "expected 1..3600 seconds");
    if (c.upstream.max_attempts < 1 || c.upstream.max_attempts > 20)
        bad("upstream.max_attempts", "expected 1..20");
    if (!upstream::parse_url(c.wechat.api_base) || c.wechat.api_base.find('?') != std::string::npos)
        bad("wechat.api_base", "expected an http:// or https:// URL");
    if (c.wechat.mode != "off" && c.wechat.mode != "qr" && c.wechat.mode != "code")
        bad("wechat.mode", "expected off, qr or code");
    if (c.wechat.mode != "off") {
        if (c.wechat.appid.empty()) bad("wechat.appid", "required when wechat.mode is " + c.wechat.mode);
        if (c.wechat.token.empty()) bad("wechat.token", "required when wechat.mode is " + c.wechat.mode);
        if (c.wechat.mode == "qr" && c.wechat.secret.empty())
            bad("wechat.secret", "required when wechat.mode is qr");
    }
    for (auto [key, value] : {std::pair{"wechat.encoding_aes_key", &c.wechat.encoding_aes_key},
                              {"wechat.previous_encoding_aes_key", &c.wechat.previous_encoding_aes_key}})
        if (!value->empty() &&
            (value->size() != 43 || value->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                             "0123456789+/") != std::string::npos))
            bad(key, "must be the 43 characters (letters, digits, + and /) the account shows");
    if (!c.wechat.previous_encoding_aes_key.empty() && c.wechat.encoding_aes_key.empty())
        bad("wechat.previous_encoding_aes_key", "set wechat.encoding_aes_key too");
    if (c.wechat.mode != "off" && trim(c.wechat.code_keyword).empty())
        bad("wechat.code_keyword", "must not be empty");
    if (c.auth.session_days < 1 || c.auth.session_days > 3650) bad("auth.session_days", "expected 1..3650");
    if (c.billing.trial_questions < 0) bad("billing.trial_questions", "must not be negative");
    if (c.billing.free_if_slower_than < 0) bad("billing.free_if_slower_than", "must not be negative");
    if (c.uploads.max_bytes < 1024 || c.uploads.max_bytes > 512 * 1024 * 1024)
        bad("uploads.max_bytes", "expected 1024 to 536870912 (512 MiB)");
    if (c.store.backend != "sqlite" && c.store.backend != "postgres") bad("store.backend", "expected sqlite or postgres");
    if (c.store.backend == "postgres" && trim(c.store.postgres_url).empty())
        bad("store.postgres_url", "must name the PostgreSQL database when store.backend = postgres");
    if (c.store.postgres_pool < 2 || c.store.postgres_pool > 256) bad("store.postgres_pool", "expected 2..256");
    if (c.store.instance_timeout < 3 || c.store.instance_timeout > 3600) bad("store.instance_timeout", "expected 3..3600");
    validate_pay(c.pay, !c.public_url.empty(), bad);
    for (auto [key, v] : {std::pair{"limits.answers_in_flight", c.limits.answers_in_flight},
                          {"limits.questions_per_minute", c.limits.questions_per_minute},
                          {"limits.signups_per_hour", c.limits.signups_per_hour},
                          {"limits.login_attempts_per_15min", c.limits.login_attempts_per_15min}})
        if (v < 1) bad(key, "must be at least 1");
}

std::string absolute(const std::string& p) {
    if (p.empty()) return p;
    return fs::absolute(p).lexically_normal().string();
}

std::shared_ptr<const config> parse(const std::vector<std::string>& args, command_line& cl,
                                    bool print) {
    auto c = std::make_shared<config>();
    std::string password_flag;
    po::options_description general;
    general.add_options()
        ("help,h", "show this help")
        ("version", "print the version")
        ("config,c", po::value<std::string>(&c->config_file), "configuration file (INI)")
        ("check-config", "check the configuration and exit (0 = valid)");
    auto keys = config_options(*c, password_flag);
    po::options_description all;
    all.add(general).add(keys);

    po::variables_map vm;
    origins from;
    try {
        auto given = po::command_line_parser(args).options(all).run();
        for (auto& o : given.options) from.command_line.insert(o.string_key);
        po::store(given, vm);
    } catch (po::error& e) {
        throw config_error("command line: " + option_error_text(e));
    }
    if (vm.count("help")) {
        if (print) {
            const auto width = terminal_width();
            std::cout << wrap("Usage: chatd [--config FILE] [--check-config] [--KEY VALUE]...", width, "", 13) << '\n';
            print_options(std::cout, "Options", general, width);
            std::cout << '\n'
                      << wrap("A key of a [section] is the option --section.key. Options may also be written "
                              "with dashes for underscores (--data-dir for --data_dir); the command line wins "
                              "over the file. See chatd(8) and chatd.conf(5).",
                              width)
                      << '\n';
            print_options(std::cout, "Configuration: the keys of the file, each also an option", keys, width);
        }
        return nullptr;
    }
    if (vm.count("version")) {
        if (print) std::cout << "chatd " << CHATD_VERSION << "\n";
        return nullptr;
    }
    cl.check_only = vm.count("check-config") > 0;
    if (vm.count("config")) {
        std::string file = vm["config"].as<std::string>();
        std::ifstream in(file);
        if (!in) throw config_error(file + ": cannot open the configuration file");
        from.file = file;
        po::parsed_options settings(&keys);
        for (auto& setting : read_ini(in, file)) {
            if (!keys.find_nothrow(setting.key, false))
                throw config_error(file + ":" + std::to_string(setting.line) + ": unknown key '" + setting.key + "'");
            from.file_lines[setting.key] = setting.line;
            po::option o;
            o.string_key = setting.key;
            o.value = {setting.value};
            o.original_tokens = {setting.key, setting.value};
            settings.options.push_back(std::move(o));
        }
        try {
            po::store(settings, vm);
        } catch (po::error_with_option_name& e) {
            std::string key = e.get_option_name();
            while (!key.empty() && key.front() == '-') key.erase(0, 1);
            throw config_error(from.where(key) + ": " + option_error_text(e));
        } catch (po::error& e) {
            throw config_error(file + ": " + option_error_text(e));
        }
        c->config_file = file;
    }
    po::notify(vm);
    validate(*c, password_flag, from);
    c->data_dir = absolute(c->data_dir);
    c->admin_socket = absolute(c->admin_socket);
    c->webui_dir = absolute(c->webui_dir);
    if (!c->upstream.ca_file.empty()) c->upstream.ca_file = absolute(c->upstream.ca_file);
    while (c->upstream.base_url.size() > 1 && c->upstream.base_url.back() == '/')
        c->upstream.base_url.pop_back();
    while (c->wechat.api_base.size() > 1 && c->wechat.api_base.back() == '/') c->wechat.api_base.pop_back();
    while (!c->public_url.empty() && c->public_url.back() == '/') c->public_url.pop_back();
    return c;
}

}  // namespace

std::string config::listen_host() const {
    auto host = listen.substr(0, listen.rfind(':'));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return host;
}

unsigned short config::listen_port() const {
    return static_cast<unsigned short>(std::stoul(listen.substr(listen.rfind(':') + 1)));
}

int config::io_threads() const {
    if (threads > 0) return threads;
    return std::max(1u, std::thread::hardware_concurrency());
}

// Options may be spelled with dashes (--data-dir) or as the file keys (--data_dir).
std::vector<std::string> normalise_option_names(std::vector<std::string> args) {
    for (auto& a : args) {
        if (!a.starts_with("--") || a == "--check-config") continue;
        auto end = std::min(a.find('='), a.size());
        std::replace(a.begin() + 2, a.begin() + static_cast<std::ptrdiff_t>(end), '-', '_');
        if (a.compare(0, end, "--check_config") == 0) a.replace(0, end, "--check-config");
    }
    return args;
}

std::shared_ptr<const config> load_config(int argc, const char* const* argv, command_line& cl) {
    return parse(normalise_option_names({argv + 1, argv + argc}), cl, true);
}

std::shared_ptr<const config> reload_config(const std::vector<std::string>& args) {
    command_line cl;
    return parse(normalise_option_names(args), cl, false);
}

}  // namespace chatd
