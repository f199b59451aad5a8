#include "fake_upstream_stats.hpp"

#include <boost/json.hpp>

#include <utility>
#include <vector>

namespace chatd::fake {

namespace json = boost::json;

std::int64_t stats::count_request(const std::string& key) {
    std::lock_guard lock(mutex_);
    return ++requests_[key];
}

void stats::remember_body(const std::string& key, std::string body) {
    auto added = std::make_shared<const std::string>(std::move(body));
    body_ptr evicted;  // freed after the lock is released
    std::lock_guard lock(mutex_);
    auto& kept = bodies_[key];
    kept.push_back(std::move(added));
    if (kept.size() > bodies_kept) {
        evicted = std::move(kept.front());
        kept.pop_front();
    }
}

std::optional<std::string> stats::last_body(const std::string& key) {
    body_ptr last;
    {
        std::lock_guard lock(mutex_);
        auto it = bodies_.find(key);
        if (it == bodies_.end() || it->second.empty()) return std::nullopt;
        last = it->second.back();
    }
    return *last;
}

std::string stats::bodies_json(const std::string& key) {
    std::vector<body_ptr> kept;
    {
        std::lock_guard lock(mutex_);
        if (auto it = bodies_.find(key); it != bodies_.end())
            kept.assign(it->second.begin(), it->second.end());
    }
    json::array bodies;
    for (const auto& body : kept) {
        boost::system::error_code ec;
        auto v = json::parse(*body, ec);
        if (ec) bodies.emplace_back(json::string(*body));
        else bodies.push_back(std::move(v));
    }
    return json::serialize(json::object{{"bodies", std::move(bodies)}});
}

std::string stats::to_json() {
    json::object requests;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [key, n] : requests_) requests[key] = n;
    }
    return json::serialize(json::object{{"requests", std::move(requests)},
                                        {"in_flight", in_flight.load()},
                                        {"completed", completed.load()},
                                        {"client_closed", client_closed.load()}});
}

void stats::reset() {
    std::lock_guard lock(mutex_);
    requests_.clear();
    bodies_.clear();
    completed = 0;
    client_closed = 0;
}

}  // namespace chatd::fake
