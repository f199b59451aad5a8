#include "util/reasons.hpp"

#include <algorithm>

namespace chatd {

namespace {

constexpr reason_info table[] = {
    {"unauthorized", -32001, "请先登录 (please log in)"},
    {"forbidden", -32003, "没有权限 (not allowed)"},
    {"not_found", -32004, "找不到 (not found)"},
    {"invalid_params", -32602, "参数不正确 (invalid parameters)"},
    {"insufficient_credits", -32010, "剩余次数不足 (not enough credits)"},
    {"no_upstream", -32020, "暂无可用的上游接口 (no upstream key is available)"},
    {"upstream_rejected", -32021, "上游拒绝了请求 (the upstream refused the request)"},
    {"wechat_unavailable", -32022, "微信登录暂时不可用，请稍后再试 (WeChat login is unavailable right now)"},
    {"busy", -32028, "上一个回答还没结束 (an answer is still in progress)"},
    {"too_many_requests", -32029, "请求太频繁，请稍后再试 (too many requests; try again later)"},
    {"content_blocked", -32030, "内容包含不允许的词语 (the content contains blocked words)"},
    {"card_invalid", -32040, "充值卡无效 (no such card)"},
    {"card_used", -32041, "充值卡已被使用 (this card was already redeemed)"},
    {"card_revoked", -32042, "充值卡已作废 (this card was revoked)"},
    {"card_expired", -32043, "充值卡已过期 (this card has expired)"},
    {"too_many_attempts", -32044, "尝试次数过多，请稍后再试 (too many failed attempts)"},
    {"login_expired", -32050, "登录已过期 (the login has expired)"},
    {"login_pending", -32051, "等待扫码 (waiting for the scan)"},
    {"bad_credentials", -32052, "用户名或密码错误 (wrong username or password)"},
    {"user_banned", -32053, "账号已被封禁 (this account is banned)"},
    {"username_taken", -32054, "用户名已被占用 (this username is taken)"},
    {"openid_taken", -32055, "这个微信已绑定其他账号 (this WeChat account belongs to another user)"},
    {"too_large", -32061, "文件太大 (the file is too large)"},
    {"unsupported_type", -32062, "不支持的文件类型 (this kind of file cannot be attached)"},
    {"pay_unavailable", -32070, "支付渠道暂时不可用 (this payment channel is unavailable)"},
    {"storage_full", -32060, "服务器磁盘已满，请稍后再试 (the server's disk is full; nothing was changed)"},
    {"database_unavailable", -32064, "数据库暂时无法连接，请稍后再试 (the database is unreachable; nothing was changed)"},
    {"upstream_unavailable", -32000, "模型服务暂时不可用 (the model service is unavailable)", false},
    {"upstream_malformed", -32000, "模型服务返回了无法读取的数据 (the model service sent a stream that cannot be read)", false},
    {"interrupted", -32000, "回答被中断，已退还次数 (the answer was cut off; refunded)", false},
    {"internal_error", -32603, "内部错误 (internal error)", false},
};

}  // namespace

std::span<const reason_info> reasons() { return table; }

const reason_info* find_reason(std::string_view reason) {
    auto it = std::find_if(std::begin(table), std::end(table), [&](const reason_info& r) { return r.reason == reason; });
    return it == std::end(table) ? nullptr : it;
}

int rpc_code_of(std::string_view reason) {
    auto* r = find_reason(reason);
    return r ? r->rpc_code : -32000;
}

}  // namespace chatd
