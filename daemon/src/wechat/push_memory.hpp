#pragma once
// What the callback remembers of signed pushes. In plaintext mode the signature covers only
// the query's timestamp and nonce, not the body: a callback URL read from an access log could
// carry a forged body for as long as its timestamp is accepted. So each (timestamp, nonce) is
// tied to the message it first carried and refused with any other; WeChat's retries of a
// message get its first reply, never a fresh one (which could be a fresh login code).
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace chatd::wechat {

class push_memory {
public:
    using clock = std::chrono::steady_clock;

    // A timestamp is accepted within ±5 minutes of our clock, so the same one can come back
    // for up to 10 minutes after we first see it.
    static constexpr auto keep = std::chrono::minutes(10);
    // Far more than WeChat sends in 10 minutes to one account; a bound on memory.
    static constexpr std::size_t capacity = 100'000;

    enum class verdict {
        first,   // a new message: handle it, then answered() or forget()
        retry,   // a message already seen: answer with `reply` (empty while the first is handled)
        reused,  // the signature already carried another message: refuse
        full,    // too many pushes remembered: refuse (WeChat tries again)
    };
    struct admission {
        verdict what;
        std::string reply;
    };

    // `message` identifies the message (sender and MsgId, or sender, CreateTime, type and Event).
    admission admit(const std::string& timestamp, const std::string& nonce, const std::string& message,
                    clock::time_point now = clock::now());
    void answered(const std::string& message, const std::string& reply);
    // Handling the first delivery failed: a retry is handled afresh.
    void forget(const std::string& message);

private:
    struct signed_push {
        std::string message;
        clock::time_point first_seen;
    };
    struct handled_message {
        std::string reply;
        clock::time_point last_seen;  // outlives every signature that carried the message
    };
    void sweep(clock::time_point now);

    std::mutex mu_;
    std::unordered_map<std::string, signed_push> signatures_;  // "timestamp/nonce"
    std::unordered_map<std::string, handled_message> messages_;
    clock::time_point last_sweep_{};
};

}  // namespace chatd::wechat
