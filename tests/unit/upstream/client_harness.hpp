#pragma once
// The upstream client's test harness: the client on one thread, as each of the daemon's event
// loops runs it, with helpers to stream a chat through it and name its outcomes.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "upstream/upstream_client.hpp"

namespace chatd::testing {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatd::cancel_handle;
using chatd::upstream::chat_request;
using chatd::upstream::client;
using chatd::upstream::client_options;
using chatd::upstream::http_response;
using chatd::upstream::outcome;
using kind = outcome::kind;

inline std::string name(kind k) {
    switch (k) {
        case kind::ok:
            return "ok";
        case kind::http_error:
            return "http_error";
        case kind::connect_failed:
            return "connect_failed";
        case kind::timeout_connect:
            return "timeout_connect";
        case kind::timeout_first_byte:
            return "timeout_first_byte";
        case kind::timeout_idle:
            return "timeout_idle";
        case kind::dropped:
            return "dropped";
        case kind::malformed:
            return "malformed";
        case kind::cancelled:
            return "cancelled";
    }
    return "?";
}

inline client_options quick_options() {
    client_options o;
    o.connect_timeout = 2s;
    o.first_byte_timeout = 2s;
    o.idle_timeout = 2s;
    return o;
}

// Runs the client on one thread, as each of the daemon's event loops does: a connection and
// everything touching it (its exchange, timers and the cancel path) share that thread.
struct harness {
    explicit harness(client_options o = quick_options()) : cl(ioc.get_executor(), std::move(o)) {}

    template <class T>
    T run(std::function<asio::awaitable<T>()> body) {
        auto fut = asio::co_spawn(ioc, std::move(body), asio::use_future);
        ioc.run_for(8s);
        ioc.restart();
        REQUIRE(fut.wait_for(0s) == std::future_status::ready);
        return fut.get();
    }

    struct chat_result {
        outcome out;
        std::vector<std::string> deltas;
    };

    chat_result chat(const std::string& base, chatd::cancel_ptr cancel = nullptr,
                     std::function<void()> on_first_delta = nullptr, std::function<void()> on_each_delta = nullptr) {
        auto deltas = std::make_shared<std::vector<std::string>>();
        auto mu = std::make_shared<std::mutex>();
        chat_request req{base, "sk-test-0123456789abcd", "m", {{"user", "hi", {}}}, {}};
        chatd::upstream::delta_fn on_delta = [deltas, mu, on_first_delta, on_each_delta](chatd::upstream::text_kind,
                                                                                         std::string_view text) {
            bool first = false;
            {
                std::lock_guard lock(*mu);
                first = deltas->empty();
                deltas->emplace_back(text);
            }
            if (on_each_delta) on_each_delta();
            if (first && on_first_delta) on_first_delta();
        };
        auto out = run<outcome>([&]() -> asio::awaitable<outcome> {
            co_return co_await cl.stream_chat(req, on_delta, cancel);
        });
        return {out, *deltas};
    }

    http_response request(std::string method, std::string url,
                          std::vector<std::pair<std::string, std::string>> headers = {},
                          std::string body = {}, std::chrono::milliseconds timeout = 2s) {
        return run<http_response>([&]() -> asio::awaitable<http_response> {
            co_return co_await cl.request(method, url, headers, body, timeout);
        });
    }

    asio::io_context ioc{1};
    client cl;
};

inline bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds limit = 2s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

}  // namespace chatd::testing
