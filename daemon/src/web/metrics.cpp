#include <cstdio>

#include "chat/chat_service.hpp"
#include "upstream/key_pool.hpp"
#include "util/unix_time.hpp"
#include "web/front_end.hpp"

namespace chatd::web {

std::string metrics_text(chat::chat_service& chat, upstream::key_pool& pool, std::size_t connections,
                         std::chrono::steady_clock::time_point started, const std::vector<double>& loop_lags,
                         double database_write_worst) {
    auto s = chat.stats();
    auto k = pool.count(unix_now());
    std::string out;
    auto seconds = [](double v) {
        char text[32];
        std::snprintf(text, sizeof text, "%.6f", v);
        return std::string(text);
    };
    auto line = [&](const std::string& name, const std::string& labels, std::int64_t v) {
        out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(v) + "\n";
    };
    out += "# TYPE chatd_answers_in_flight gauge\n";
    line("chatd_answers_in_flight", "", static_cast<std::int64_t>(chat.in_flight()));
    out += "# TYPE chatd_answers_total counter\n";
    line("chatd_answers_total", "status=\"done\"", s.done);
    line("chatd_answers_total", "status=\"stopped\"", s.stopped);
    line("chatd_answers_total", "status=\"failed\"", s.failed);
    line("chatd_answers_total", "status=\"interrupted\"", s.interrupted);
    out += "# TYPE chatd_upstream_attempts_total counter\n";
    line("chatd_upstream_attempts_total", "", s.upstream_attempts);
    out += "# TYPE chatd_upstream_retries_total counter\n";
    line("chatd_upstream_retries_total", "", s.retries);
    out += "# TYPE chatd_key_evictions_total counter\n";
    line("chatd_key_evictions_total", "", pool.evictions());
    out += "# TYPE chatd_keys gauge\n";
    line("chatd_keys", "status=\"active\"", k.active);
    line("chatd_keys", "status=\"cooling\"", k.cooling);
    line("chatd_keys", "status=\"invalid\"", k.invalid);
    line("chatd_keys", "status=\"disabled\"", k.disabled);
    out += "# TYPE chatd_key_requests_total counter\n";
    auto keys = pool.snapshot();
    for (auto& key : keys) line("chatd_key_requests_total", "key_id=\"" + std::to_string(key.id) + "\"", key.requests);
    out += "# TYPE chatd_key_failures_total counter\n";
    for (auto& key : keys) line("chatd_key_failures_total", "key_id=\"" + std::to_string(key.id) + "\"", key.failures);
    out += "# TYPE chatd_http_connections gauge\n";
    line("chatd_http_connections", "", static_cast<std::int64_t>(connections));
    out += "# TYPE chatd_uptime_seconds gauge\n";
    line("chatd_uptime_seconds", "",
         std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count());
    out += "# HELP chatd_event_loop_lag_seconds The longest an I/O thread's event loop ran late in the last 10-20 s.\n";
    out += "# TYPE chatd_event_loop_lag_seconds gauge\n";
    for (std::size_t i = 0; i < loop_lags.size(); ++i)
        out += "chatd_event_loop_lag_seconds{loop=\"" + std::to_string(i + 1) + "\"} " + seconds(loop_lags[i]) + "\n";
    out += "# HELP chatd_database_write_seconds The longest a write took in the last 10-20 s, from being asked to its "
           "commit.\n";
    out += "# TYPE chatd_database_write_seconds gauge\n";
    out += "chatd_database_write_seconds " + seconds(database_write_worst) + "\n";
    return out;
}

}  // namespace chatd::web
