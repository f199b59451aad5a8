#pragma once
// chatd's start-up configuration: INI file + command line (command line wins). Immutable once
// loaded; SIGHUP loads a new one and swaps it in. Run-time operator settings live in the
// database (settings/), seeded from the keys of the same name here.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/ip_range.hpp"

namespace chatd {

struct config {
    std::string config_file;  // empty when none was given

    std::string listen = "127.0.0.1:8080";
    std::string admin_socket = "/run/chatd/admin.sock";
    std::string data_dir = "/var/lib/chatd";
    std::string webui_dir = "/usr/share/chatd/webui";
    std::string public_url;
    // Peers whose X-Forwarded-For is believed (a reverse proxy on this host by default).
    std::string trusted_proxies = "127.0.0.1/32, ::1/128";
    std::vector<ip_range> trusted_proxy_ranges;  // parsed from trusted_proxies
    int threads = 0;
    std::string log_level = "info";
    int drain_timeout = 30;  // seconds SIGTERM waits for answers in flight
    int stream_flush_ms = 50;  // a live stream writes at most this often; its first text at once

    struct {
        std::string base_url = "https://api.openai.com/v1";
        std::string proxy;
        std::string ca_file;
        int connect_timeout = 10;
        int first_byte_timeout = 60;
        int idle_timeout = 60;
        int max_attempts = 3;
    } upstream;

    struct {
        std::string mode = "off";
        std::string appid, secret, token, encoding_aes_key;
        std::string previous_encoding_aes_key;  // still accepted after the key is changed
        std::string api_base = "https://api.weixin.qq.com";
        std::string code_keyword = "验证码";
        std::string account_qr_url;  // the link inside the account's follow QR (code mode)
    } wechat;

    struct {
        bool password = false;
        int session_days = 30;
    } auth;

    struct {
        int trial_questions = 10;
        int free_if_slower_than = 0;
    } billing;

    struct {
        int max_bytes = 10 * 1024 * 1024;  // one upload (POST /api/upload)
    } uploads;

    // Where the state lives (CONTRACT §12): SQLite under data_dir, or a PostgreSQL server
    // that several instances share.
    struct {
        std::string backend = "sqlite";  // sqlite | postgres
        std::string postgres_url;        // libpq syntax; holds a password: never logged in full
        int postgres_pool = 8;           // connections this instance opens
        int instance_timeout = 30;       // seconds unseen before other instances take one for dead
    } store;

    // Online payment (CONTRACT §11). A channel is offered when its section is filled in.
    struct {
        int order_minutes = 15;  // unpaid orders close after this
        struct {
            std::string mchid, appid, api_v3_key, serial_no, private_key_file;
            std::string platform_public_key_file, platform_public_key_id;
            std::string api_base = "https://api.mch.weixin.qq.com";
            bool configured() const { return !mchid.empty(); }
        } wechat;
        struct {
            std::string app_id, private_key_file, alipay_public_key_file;
            std::string gateway = "https://openapi.alipay.com/gateway.do";
            bool configured() const { return !app_id.empty(); }
        } alipay;
        struct {
            std::string pid, key, api_base;
            std::string types = "alipay,wxpay";
            bool configured() const { return !pid.empty(); }
        } epay;
    } pay;

    struct {
        int answers_in_flight = 2;
        int questions_per_minute = 30;
        int signups_per_hour = 20;
        int login_attempts_per_15min = 10;
    } limits;

    std::string listen_host() const;
    unsigned short listen_port() const;
    int io_threads() const;
};

// A configuration problem, naming the key and, when it came from the file, the line.
struct config_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Parses argv (and the --config file). Returns nullptr after printing --help/--version.
// Throws config_error with a message fit for the operator.
struct command_line {
    bool check_only = false;
};
std::shared_ptr<const config> load_config(int argc, const char* const* argv, command_line& cl);
// Re-reads the same file with the same command line (SIGHUP).
std::shared_ptr<const config> reload_config(const std::vector<std::string>& args);

}  // namespace chatd
