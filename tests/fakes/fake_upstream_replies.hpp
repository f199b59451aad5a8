// The fixed replies, in the providers' own shapes: OpenAI errors for the failing behaviours, the
// model list and the provider balance endpoints. Fixed text, so tests may compare it.
#pragma once

#include "fake_upstream_plan.hpp"

#include <boost/beast/http/status.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace chatd::fake {

struct canned {
    boost::beast::http::status status;
    std::string body;
    int retry_after = -1;
};

std::string openai_error(std::string_view message, std::string_view type,
                         std::optional<std::string_view> param,
                         std::optional<std::string_view> code);

// The failing behaviours answer chat and model listing alike; nullopt for the answering ones.
std::optional<canned> error_for(const plan& p, std::string_view key, std::string_view model);

// What a gateway that does not know `stream_options` says (new-api #418): OpenAI's own
// unknown-parameter 400.
canned refuse_stream_options();

std::string model_list();

// Provider balance endpoints, each in its provider's own shape (DeepSeek, OpenRouter,
// SiliconFlow, Moonshot); nullopt for any other path.
std::optional<std::string> balance_body(std::string_view path, int b);

}  // namespace chatd::fake
