// Context trimming: a budget and a branch of messages (newest first) from the input. The
// question is always kept; the rest fits both budgets; the context opens with the system prompt
// and never with an answer unless the answer is all there is; and a file's text cut to fit
// stays valid UTF-8.
#include <fuzzer/FuzzedDataProvider.h>

#include "chat/context.hpp"
#include "fuzz_check.hpp"
#include "util/text.hpp"

using namespace chatd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    chat::context_budget budget;
    budget.max_messages = in.ConsumeIntegralInRange(0, 12);
    budget.max_chars = in.ConsumeIntegralInRange(0, 4000);
    budget.images = in.ConsumeBool();
    auto system_prompt = in.ConsumeRandomLengthString(64);

    chat::context_selector selector(budget);
    std::vector<std::string> kept_in_order;  // what the selector was given and took, newest first
    bool all_valid = valid_utf8(system_prompt);
    while (in.remaining_bytes() > 0) {
        store::branch_message m;
        m.role = in.ConsumeBool() ? "user" : "assistant";
        m.status = in.PickValueInArray({"done", "failed", "stopped", "streaming"});
        m.content = in.ConsumeRandomLengthString(512);
        all_valid = all_valid && valid_utf8(m.content);
        for (int files = in.ConsumeIntegralInRange(0, 2); files > 0; --files) {
            store::upload_row f;
            f.kind = in.ConsumeBool() ? "file" : "image";
            f.name = in.ConsumeRandomLengthString(16);
            f.text = in.ConsumeRandomLengthString(1024);
            f.mime = "image/png";
            all_valid = all_valid && valid_utf8(f.name) && valid_utf8(f.text);
            m.attachments.push_back(std::move(f));
        }
        bool skipped = m.role == "assistant" && (m.status == "failed" || m.content.empty());
        auto role = m.role;
        if (!selector.take(std::move(m))) break;
        if (!skipped) kept_in_order.push_back(role);
    }
    auto context = std::move(selector).result(system_prompt);

    std::size_t at = 0;
    if (!system_prompt.empty()) {
        FUZZ_CHECK(!context.empty() && context[0].role == "system" && context[0].content == system_prompt);
        at = 1;
    }
    auto turns = context.size() - at;
    FUZZ_CHECK(turns <= kept_in_order.size());
    if (kept_in_order.empty()) return 0;
    FUZZ_CHECK(turns >= 1);
    FUZZ_CHECK(context.back().role == kept_in_order.front());  // the question, newest
    FUZZ_CHECK(turns <= static_cast<std::size_t>(std::max(1, budget.max_messages)));
    std::int64_t older = 0;
    for (std::size_t i = at; i + 1 < context.size(); ++i) older += static_cast<std::int64_t>(context[i].content.size());
    if (turns > 1) {
        FUZZ_CHECK(older + static_cast<std::int64_t>(context.back().content.size()) <= budget.max_chars);
        FUZZ_CHECK(context[at].role != "assistant");
    }
    for (std::size_t i = at; i < context.size(); ++i) {
        FUZZ_CHECK(context[i].role == "user" || context[i].role == "assistant");
        if (!budget.images) FUZZ_CHECK(context[i].images.empty());
        if (all_valid) FUZZ_CHECK(valid_utf8(context[i].content));
    }
    return 0;
}
