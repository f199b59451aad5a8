#include "wechat/push_memory.hpp"

namespace chatd::wechat {

void push_memory::sweep(clock::time_point now) {
    // Every 30 s, or every second while full so that room is found as soon as there is some.
    auto every = signatures_.size() < capacity ? std::chrono::seconds(30) : std::chrono::seconds(1);
    if (now - last_sweep_ < every) return;
    last_sweep_ = now;
    std::erase_if(signatures_, [&](const auto& kv) { return now - kv.second.first_seen >= keep; });
    std::erase_if(messages_, [&](const auto& kv) { return now - kv.second.last_seen >= keep; });
}

push_memory::admission push_memory::admit(const std::string& timestamp, const std::string& nonce,
                                          const std::string& message, clock::time_point now) {
    std::lock_guard lock(mu_);
    sweep(now);
    auto key = timestamp + "/" + nonce;
    if (auto s = signatures_.find(key); s != signatures_.end()) {
        if (s->second.message != message) return {verdict::reused, ""};
    } else {
        // Refusing is safer than forgetting: a forgotten signature could be replayed.
        if (signatures_.size() >= capacity) return {verdict::full, ""};
        signatures_.emplace(key, signed_push{message, now});
    }
    auto [m, inserted] = messages_.try_emplace(message, handled_message{"", now});
    m->second.last_seen = now;
    if (inserted) return {verdict::first, ""};
    return {verdict::retry, m->second.reply};
}

void push_memory::answered(const std::string& message, const std::string& reply) {
    std::lock_guard lock(mu_);
    if (auto m = messages_.find(message); m != messages_.end()) m->second.reply = reply;
}

void push_memory::forget(const std::string& message) {
    std::lock_guard lock(mu_);
    messages_.erase(message);
}

}  // namespace chatd::wechat
