// The hostile behaviours: streams in OpenAI's SSE framing that a broken or malicious upstream
// could send, to prove that chatd stays bounded. No I/O here: the server writes the pieces as they
// fall due. Each piece is already framed as HTTP chunks, because `flood` is about many tiny chunks.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "fake_upstream_plan.hpp"

namespace chatd::fake {

class hostile_script {
  public:
    struct piece {
        std::string_view bytes;  // wire bytes after the response head, valid until next()
        std::optional<ms> at;    // when it is due, from the first piece; nullopt: at once
    };

    static bool handles(std::string_view behaviour);

    explicit hostile_script(const plan& p);

    // The next piece; nullopt once the response is complete (its last chunk sent). The endless
    // behaviours never end: the client has to hang up.
    std::optional<piece> next();

  private:
    void chunk(std::string_view payload);  // appends one HTTP chunk to out_
    void filler(std::size_t n);            // n bytes of 'x' as one HTTP chunk
    piece flood_step(std::size_t step);

    const plan& plan_;
    std::size_t step_ = 0;
    std::size_t sent_ = 0;  // bytes of the long line so far
    std::string out_;
    std::string fill_;
};

}  // namespace chatd::fake
