#include "fake_upstream_replies.hpp"

#include <boost/json.hpp>

#include <utility>

namespace chatd::fake {

namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

std::string mask_key(std::string_view key) {
    if (key.size() <= 8) return std::string(key.substr(0, 3)) + "****";
    return std::string(key.substr(0, 3)) + std::string(key.size() - 7, '*') +
           std::string(key.substr(key.size() - 4));
}

}  // namespace

std::string openai_error(std::string_view message, std::string_view type,
                         std::optional<std::string_view> param,
                         std::optional<std::string_view> code) {
    json::object err{{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
    if (param) err["param"] = *param;
    if (code) err["code"] = *code;
    return json::serialize(json::object{{"error", std::move(err)}});
}

std::optional<canned> error_for(const plan& p, std::string_view key, std::string_view model) {
    const auto& b = p.behaviour;
    if (!p.problem.empty())
        return canned{http::status::bad_request,
                      openai_error(p.problem, "invalid_request_error", std::nullopt, std::nullopt)};
    if (b == "invalid")
        return canned{http::status::unauthorized,
                      openai_error("Incorrect API key provided: " + mask_key(key) +
                                       ". You can find your API key at "
                                       "https://platform.openai.com/account/api-keys.",
                                   "invalid_request_error", std::nullopt, "invalid_api_key")};
    if (b == "deactivated")
        return canned{http::status::unauthorized,
                      openai_error("The OpenAI account associated with this API key has been "
                                   "deactivated.",
                                   "invalid_request_error", std::nullopt, "account_deactivated")};
    if (b == "ratelimit")
        return canned{http::status::too_many_requests,
                      openai_error("Rate limit reached for " + std::string(model) +
                                       " in organization org-fake on requests per min (RPM): "
                                       "Limit 3, Used 3, Requested 1. Please try again in " +
                                       std::to_string(p.retry_after) + "s.",
                                   "requests", std::nullopt, "rate_limit_exceeded"),
                      p.retry_after};
    if (b == "quota")
        return canned{http::status::too_many_requests,
                      openai_error("You exceeded your current quota, please check your plan and "
                                   "billing details.",
                                   "insufficient_quota", std::nullopt, "insufficient_quota")};
    if (b == "error")
        return canned{static_cast<http::status>(p.status),
                      openai_error("The server had an error while processing your request.",
                                   "server_error", std::nullopt, std::nullopt)};
    if (b == "badrequest")
        return canned{http::status::bad_request,
                      openai_error("This model's maximum context length is 8192 tokens. However, "
                                   "your messages resulted in 9210 tokens. Please reduce the "
                                   "length of the messages.",
                                   "invalid_request_error", "messages", "context_length_exceeded")};
    return std::nullopt;
}

canned refuse_stream_options() {
    return canned{http::status::bad_request,
                  openai_error("Unknown parameter: 'stream_options'.", "invalid_request_error",
                               "stream_options", "unknown_parameter")};
}

std::string model_list() {
    json::array data;
    for (auto [id, created] : {std::pair{"gpt-4o-mini", 1721172741}, std::pair{"gpt-4o", 1715367049}})
        data.push_back(json::object{
            {"id", id}, {"object", "model"}, {"created", created}, {"owned_by", "fake"}});
    return json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}});
}

std::optional<std::string> balance_body(std::string_view path, int b) {
    auto amount = std::to_string(b) + ".00";
    if (path.ends_with("/user/balance"))
        return json::serialize(json::object{
            {"is_available", true},
            {"balance_infos", json::array{json::object{{"currency", "CNY"}, {"total_balance", amount},
                                                       {"granted_balance", "0.00"}, {"topped_up_balance", amount}}}}});
    if (path.ends_with("/credits"))
        return json::serialize(json::object{{"data", json::object{{"total_credits", b + 10.0}, {"total_usage", 10.0}}}});
    if (path.ends_with("/user/info"))
        return json::serialize(json::object{
            {"code", 20000}, {"message", "OK"}, {"status", true},
            {"data", json::object{{"id", "fake"}, {"balance", amount}, {"chargeBalance", "0"}, {"totalBalance", amount}}}});
    if (path.ends_with("/users/me/balance"))
        return json::serialize(json::object{
            {"code", 0}, {"status", true},
            {"data", json::object{{"available_balance", b}, {"voucher_balance", 0}, {"cash_balance", b}}}});
    return std::nullopt;
}

}  // namespace chatd::fake
