#include "upstream/key_pool.hpp"

#include <algorithm>
#include <utility>
#include <spdlog/spdlog.h>

#include "util/text.hpp"

namespace chatd::upstream {

std::string pool_key::shown_status(std::int64_t now) const {
    if (!enabled) return "disabled";
    if (status == "cooling" && cooldown_until && *cooldown_until <= now) return "active";
    return status;
}

namespace {

pool_key pooled(const key_record& stored) {
    pool_key k;
    static_cast<key_record&>(k) = stored;
    return k;
}

}  // namespace

verdict classify(const outcome& o) {
    using k = outcome::kind;
    switch (o.what) {
        case k::ok:
            return verdict::success;
        case k::cancelled:
            return verdict::cancelled;
        case k::http_error: {
            const auto& code = o.error_code;
            if (code == "invalid_api_key" || code == "account_deactivated" ||
                code == "insufficient_quota" || o.error_type == "insufficient_quota")
                return verdict::evict;
            if (o.http_status == 401) return verdict::evict;
            if (o.http_status == 429) return verdict::cool_down;
            if (o.http_status == 400 || o.http_status == 404 || o.http_status == 413 ||
                o.http_status == 422)
                return verdict::request_fault;
            return verdict::transient;
        }
        default:
            return verdict::transient;
    }
}

void key_pool::load(const std::vector<key_record>& keys) {
    std::lock_guard lock(mu_);
    keys_.clear();
    for (auto& k : keys) keys_.push_back(pooled(k));
    next_ = 0;
    dirty_.clear();
    removed_here_.clear();
}

void key_pool::add(const key_record& k) {
    std::lock_guard lock(mu_);
    auto it = std::find_if(keys_.begin(), keys_.end(), [&](auto& x) { return x.id == k.id; });
    pool_key& added = it != keys_.end() ? (*it = pooled(k)) : keys_.emplace_back(pooled(k));
    added.changed_here = std::chrono::steady_clock::now();
    removed_here_.erase(k.id);
}

bool key_pool::remove(std::int64_t id) {
    std::lock_guard lock(mu_);
    auto n = std::erase_if(keys_, [&](auto& x) { return x.id == id; });
    dirty_.erase(id);
    auto now = std::chrono::steady_clock::now();
    // A stored copy read before the removal must not bring the key back; older marks are moot.
    std::erase_if(removed_here_, [&](auto& r) { return r.second < now - std::chrono::minutes(10); });
    removed_here_[id] = now;
    return n > 0;
}

void key_pool::note_refuses_stream_options(std::int64_t id) {
    std::lock_guard lock(mu_);
    for (auto& k : keys_)
        if (k.id == id && !k.refuses_stream_options) {
            k.refuses_stream_options = true;
            mark_health(k);
            dirty_.insert(id);
        }
}

bool key_pool::set_enabled(std::int64_t id, bool enabled) {
    std::lock_guard lock(mu_);
    for (auto& k : keys_) {
        if (k.id != id) continue;
        k.enabled = enabled;
        k.changed_here = std::chrono::steady_clock::now();
        if (enabled) {
            // The operator's enable is a fresh start: forget strikes and cool-downs.
            k.consecutive_failures = 0;
            if (k.status == "cooling") {
                k.status = "active";
                mark_health(k);
                dirty_.insert(id);
            }
        }
        return true;
    }
    return false;
}

bool key_pool::usable(const pool_key& k, std::string_view model, std::int64_t now) const {
    if (k.shown_status(now) != "active") return false;
    return k.models.empty() || std::find(k.models.begin(), k.models.end(), model) != k.models.end();
}

std::optional<lease> key_pool::pick(std::string_view model, const std::set<std::int64_t>& exclude,
                                    std::int64_t now) {
    std::lock_guard lock(mu_);
    const std::size_t n = keys_.size();
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t idx = (next_ + i) % n;
        const auto& k = keys_[idx];
        if (exclude.count(k.id) || !usable(k, model, now)) continue;
        next_ = (idx + 1) % n;
        return lease{k.id, k.secret, k.base_url, k.refuses_stream_options};
    }
    return std::nullopt;
}

bool key_pool::has_candidate(std::string_view model, std::int64_t now) const {
    std::lock_guard lock(mu_);
    return std::any_of(keys_.begin(), keys_.end(), [&](auto& k) { return usable(k, model, now); });
}

verdict key_pool::report(std::int64_t id, const outcome& o, std::int64_t now) {
    verdict v = classify(o);
    std::lock_guard lock(mu_);
    auto it = std::find_if(keys_.begin(), keys_.end(), [&](auto& x) { return x.id == id; });
    if (it == keys_.end()) return v;  // removed meanwhile
    auto& k = *it;
    dirty_.insert(id);
    k.requests++;
    k.unsaved.requests++;
    k.last_used_at = now;
    if (o.tokens) {
        k.tokens_in += o.tokens->prompt_tokens;
        k.tokens_out += o.tokens->completion_tokens;
        k.unsaved.tokens_in += o.tokens->prompt_tokens;
        k.unsaved.tokens_out += o.tokens->completion_tokens;
    }
    if (v == verdict::evict || v == verdict::cool_down || v == verdict::transient) {
        k.failures++;
        k.unsaved.failures++;
    }
    auto describe = [&] {
        std::string s = o.http_status ? "HTTP " + std::to_string(o.http_status) : std::string("network");
        if (!o.error_code.empty()) s += " " + o.error_code;
        else if (!o.error_type.empty()) s += " " + o.error_type;
        if (!o.error_message.empty()) s += ": " + std::string(utf8_prefix(o.error_message, 200));
        return s;
    };
    if (k.status == "cooling" && k.cooldown_until && *k.cooldown_until <= now) {
        changed(k, "active", "", now);
        k.cooldown_until.reset();
    }
    switch (v) {
        case verdict::success:
            k.consecutive_failures = 0;
            break;
        case verdict::cancelled:
        case verdict::request_fault:
            break;
        case verdict::evict:
            evictions_++;
            changed(k, "invalid", describe(), now);
            k.last_error = k.reason;
            k.cooldown_until.reset();
            spdlog::warn("upstream key {} ({}) evicted: {}", k.id, mask_secret(k.secret), k.reason);
            break;
        case verdict::cool_down: {
            int secs = std::clamp(o.retry_after_s.value_or(default_retry_after_s), 1, max_retry_after_s);
            changed(k, "cooling", "rate limited", now);
            k.cooldown_until = now + secs;
            k.last_error = describe();
            spdlog::info("upstream key {} cooling down for {} s: {}", k.id, secs, k.last_error);
            break;
        }
        case verdict::transient:
            k.last_error = describe();
            if (++k.consecutive_failures >= transient_limit) {
                k.consecutive_failures = 0;
                changed(k, "cooling", "repeated failures", now);
                k.cooldown_until = now + transient_cooldown_s;
                spdlog::info("upstream key {} cooling down after {} failures in a row: {}", k.id,
                             transient_limit, k.last_error);
            }
            break;
    }
    return v;
}

std::string key_pool::record_test(std::int64_t id, const outcome& o, std::int64_t now) {
    verdict v = classify(o);
    std::lock_guard lock(mu_);
    auto it = std::find_if(keys_.begin(), keys_.end(), [&](auto& x) { return x.id == id; });
    if (it == keys_.end()) return "removed";
    auto& k = *it;
    dirty_.insert(id);
    if (v == verdict::success) {
        if (k.status != "active") spdlog::info("upstream key {} ({}) works again: back in the pool", k.id, mask_secret(k.secret));
        changed(k, "active", "", now);
        k.cooldown_until.reset();
        k.consecutive_failures = 0;
    } else if (v == verdict::evict) {
        if (k.status != "invalid") evictions_++;
        changed(k, "invalid",
                (o.http_status ? "HTTP " + std::to_string(o.http_status) : std::string("network")) +
                    (o.error_code.empty() ? "" : " " + o.error_code),
                now);
        k.last_error = k.reason;
    } else {
        k.last_error = o.error_message.empty() ? "check failed" : std::string(utf8_prefix(o.error_message, 200));
    }
    return k.shown_status(now);
}

void key_pool::mark_health(pool_key& k) { k.unsaved.health_changed = true; }

void key_pool::changed(pool_key& k, std::string status, std::string reason, std::int64_t now) {
    mark_health(k);  // the cool-down's end may move even when the status stays
    if (k.status == status && k.reason == reason) return;
    k.status = std::move(status);
    k.reason = std::move(reason);
    changes_.push_back({k.id, now, k.status, k.reason});
}

std::vector<key_pool::status_change> key_pool::take_changes() {
    std::lock_guard lock(mu_);
    return std::exchange(changes_, {});
}

std::int64_t key_pool::evictions() const {
    std::lock_guard lock(mu_);
    return evictions_;
}

std::vector<pool_key> key_pool::snapshot() const {
    std::lock_guard lock(mu_);
    return keys_;
}

std::vector<key_usage> key_pool::take_usage() {
    std::lock_guard lock(mu_);
    std::vector<key_usage> out;
    for (auto& k : keys_) {
        if (!dirty_.count(k.id)) continue;
        auto& u = out.emplace_back(std::exchange(k.unsaved, {}));
        u.id = k.id;
        u.last_used_at = k.last_used_at;
        u.last_error = k.last_error;
        if (u.health_changed) {
            u.status = k.status;
            u.reason = k.reason;
            u.cooldown_until = k.cooldown_until;
            u.refuses_stream_options = k.refuses_stream_options;
        }
    }
    dirty_.clear();
    return out;
}

void key_pool::refresh(const std::vector<key_record>& stored, std::chrono::steady_clock::time_point read_at) {
    std::lock_guard lock(mu_);
    std::set<std::int64_t> seen;
    for (const auto& s : stored) {
        seen.insert(s.id);
        if (auto r = removed_here_.find(s.id); r != removed_here_.end() && r->second >= read_at) continue;
        auto it = std::find_if(keys_.begin(), keys_.end(), [&](auto& x) { return x.id == s.id; });
        if (it == keys_.end()) {
            keys_.push_back(pooled(s));
            continue;
        }
        auto& k = *it;
        const pool_key before = k;
        if (before.changed_here < read_at) {
            k = pooled(s);
            k.consecutive_failures = before.consecutive_failures;
            k.changed_here = before.changed_here;
        }
        // What this process has not saved yet is not in the stored copy.
        const auto& mine = k.unsaved = before.unsaved;
        if (mine.health_changed) {
            k.status = before.status;
            k.reason = before.reason;
            k.cooldown_until = before.cooldown_until;
            k.refuses_stream_options = before.refuses_stream_options;
        }
        if (mine.requests > 0) {
            k.last_used_at = before.last_used_at;
            k.last_error = before.last_error;
        }
        k.requests = s.requests + mine.requests;
        k.failures = s.failures + mine.failures;
        k.tokens_in = s.tokens_in + mine.tokens_in;
        k.tokens_out = s.tokens_out + mine.tokens_out;
    }
    std::erase_if(keys_, [&](const pool_key& k) { return !seen.count(k.id) && k.changed_here < read_at; });
    if (next_ >= keys_.size()) next_ = 0;
}

key_pool::counts key_pool::count(std::int64_t now) const {
    std::lock_guard lock(mu_);
    counts c;
    for (auto& k : keys_) {
        auto s = k.shown_status(now);
        if (s == "active") c.active++;
        else if (s == "cooling") c.cooling++;
        else if (s == "invalid") c.invalid++;
        else c.disabled++;
    }
    return c;
}

}  // namespace chatd::upstream
