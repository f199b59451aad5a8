#pragma once
// A thread-safe, one-shot cancellation flag with a callback, shared between the party that
// asks to stop (chat.stop, shutdown) and the I/O code that must abort (the upstream request).
#include <functional>
#include <memory>
#include <mutex>

namespace chatd {

class cancel_handle {
public:
    // Idempotent. Runs the registered callback (once) on the calling thread; the callback is
    // expected to post the real work onto its own executor.
    void cancel() {
        std::function<void()> f;
        {
            std::lock_guard lock(mu_);
            if (cancelled_) return;
            cancelled_ = true;
            f = std::move(on_cancel_);
        }
        if (f) f();
    }
    bool cancelled() const {
        std::lock_guard lock(mu_);
        return cancelled_;
    }
    // Replaces any earlier callback. If already cancelled, runs f at once.
    void on_cancel(std::function<void()> f) {
        {
            std::lock_guard lock(mu_);
            if (!cancelled_) {
                on_cancel_ = std::move(f);
                return;
            }
        }
        f();
    }
    void clear_callback() {
        std::lock_guard lock(mu_);
        on_cancel_ = nullptr;
    }

private:
    mutable std::mutex mu_;
    bool cancelled_ = false;
    std::function<void()> on_cancel_;
};

using cancel_ptr = std::shared_ptr<cancel_handle>;

}  // namespace chatd
