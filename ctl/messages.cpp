#include "messages.hpp"

#include <cstdlib>
#include <utility>
#include <vector>

namespace chatd::ctl {

namespace {

// English as written in the code → Chinese. "{}" stands for a part that varies; it is
// matched and translated on its own.
constexpr std::pair<std::string_view, std::string_view> chinese_of[] = {
    // main
    {"no command given", "没有给出命令"},
    {"unknown command '{}'", "未知命令 '{}'"},
    {"'{}' needs a subcommand", "'{}' 需要子命令"},
    {"no command '{}'", "没有命令 '{}'"},
    {"Run 'chatctl help' for the list of commands.", "运行 'chatctl help' 查看命令列表。"},
    {"cannot write to standard output", "无法写入标准输出"},
    {"--timeout takes a number of seconds, above 0 and at most 604800", "--timeout 是秒数，大于 0 且不超过 604800"},
    {"completion is written for bash only", "补全脚本只支持 bash"},
    {"{} of the tested keys failed", "测试的密钥中有 {} 个失败"},
    // the connection
    {"cannot connect to {}: {}", "无法连接 {}：{}"},
    {"socket path too long", "套接字路径太长"},
    {"no such socket (is chatd running?)", "套接字不存在（chatd 在运行吗？）"},
    {"connection refused (is chatd running?)", "连接被拒绝（chatd 在运行吗？）"},
    {"permission denied (is your user in chatd's group?)", "没有权限（你的用户在 chatd 组里吗？）"},
    {"timed out after {}", "{} 后超时"},
    {"no reply from {} within {}", "{} 在 {} 内没有回复"},
    {"connection to {} failed: {}", "与 {} 的连接失败：{}"},
    {"unexpected reply from {}: {}", "{} 的回复无法识别：{}"},
    {"malformed error from {}", "{} 返回的错误格式不对"},
    {"request failed", "请求失败"},
    // arguments
    {"missing {}", "缺少 {}"},
    {"unexpected argument '{}'", "多余的参数 '{}'"},
    {"ID must be a positive integer, not '{}'", "ID 必须是正整数，而不是 '{}'"},
    {"{} must be a whole number, not '{}'", "{} 必须是整数，而不是 '{}'"},
    {"{} must be a number of at least 0, not '{}'", "{} 必须是不小于 0 的数，而不是 '{}'"},
    {"{} must be an amount in yuan such as 19.90, not '{}'", "{} 必须是以元为单位的金额（如 19.90），而不是 '{}'"},
    {"{} and {} exclude each other", "{} 和 {} 不能同时使用"},
    {"--format must be csv, txt or json", "--format 只能是 csv、txt 或 json"},
    {"give card codes or --batch NAME", "请给出卡密或 --batch NAME"},
    {"a new role needs --name and --prompt", "新角色需要 --name 和 --prompt"},
    {"a new plan needs --name, --price, --questions and --days", "新套餐需要 --name、--price、--questions 和 --days"},
    {"--stream-usage is auto, on or off, not '{}'", "--stream-usage 只能是 auto、on 或 off，而不是 '{}'"},
    {"empty {}", "{} 为空"},
    {"JSON does not parse: {}", "JSON 无法解析：{}"},
    {"JSON must be an object or an array", "JSON 必须是对象或数组"},
    {"no keys on standard input", "标准输入里没有密钥"},
    {"'-' reads the keys from standard input and goes alone", "'-' 表示从标准输入读取密钥，不能和其他密钥同时给出"},
    {"no keys given", "没有给出密钥"},
    {"--models names no model", "--models 没有列出模型"},
    {"no password given", "没有输入密码"},
    {"empty password", "密码为空"},
    {"the passwords do not match", "两次输入的密码不一致"},
    {"no password on standard input", "标准输入里没有密码"},
    {"the second line of standard input differs from the first", "标准输入的第二行和第一行不同"},
    {"standard input holds more than the password and its repetition", "标准输入里除了密码和重复的密码还有别的内容"},
    // confirmations
    {"added {} key(s): ids{}", "已添加 {} 个密钥：编号{}"},
    {"removed key {}", "已删除密钥 {}"},
    {"enabled key {}", "已启用密钥 {}"},
    {"disabled key {}", "已停用密钥 {}"},
    {"works", "可用"},
    {"fails", "失败"},
    {"revoked {} card(s)", "已作废 {} 张充值卡"},
    {"removed model {}", "已删除模型 {}"},
    {"removed role {}", "已删除角色 {}"},
    {"preset {} added", "已添加预设问题 {}"},
    {"removed preset {}", "已删除预设问题 {}"},
    {"removed plan {}", "已删除套餐 {}"},
    {"banned user {}", "已封禁用户 {}"},
    {"unbanned user {}", "已解封用户 {}"},
    {"user {}: API {}", "用户 {}：API {}"},
    {"added admin {} (id {})", "已添加管理员 {}（编号 {}）"},
    {"set {}", "已设置 {}"},
    {"wrote {} bytes to {}", "已将 {} 字节写入 {}"},
    {"amounts in {}", "金额单位：{}"},
    {"more: --cursor {}", "还有更多：--cursor {}"},
    // table headers
    {"ID", "编号"}, {"KEY", "密钥"}, {"STATUS", "状态"}, {"REQUESTS", "请求"}, {"FAILURES", "失败"},
    {"TOKENS_IN", "输入令牌"}, {"TOKENS_OUT", "输出令牌"}, {"LAST_USED", "最后使用"},
    {"COOLING_UNTIL", "冷却到"}, {"BASE_URL", "接口地址"}, {"BASE URL", "接口地址"}, {"REASON", "原因"},
    {"RESULT", "结果"}, {"AT", "时间"}, {"PROVIDER", "服务商"}, {"BALANCE", "余额"}, {"CURRENCY", "币种"},
    {"ERROR", "错误"}, {"NAME", "名称"}, {"UPSTREAM_MODEL", "上游模型"}, {"COST", "成本"},
    {"MAX_MESSAGES", "最多消息"}, {"MAX_CHARS", "最多字符"}, {"MAX_TOKENS", "最多令牌"}, {"USAGE", "用量"},
    {"VISION", "识图"}, {"PRICE_IN/OUT", "输入/输出价格"}, {"ENABLED", "启用"}, {"SORT", "排序"},
    {"DESCRIPTION", "描述"}, {"PROMPT", "提示词"}, {"TEXT", "文本"}, {"CODE", "卡密"}, {"BATCH", "批次"},
    {"QUESTIONS", "次数"}, {"DAYS", "天数"}, {"REDEEMED_BY", "兑换用户"}, {"REDEEMED_AT", "兑换时间"},
    {"REDEEM_BEFORE", "兑换截止"}, {"COUNT", "数量"}, {"UNUSED", "未使用"}, {"USED", "已使用"},
    {"REVOKED", "已作废"}, {"EXPIRED", "已过期"}, {"CREATED", "创建时间"}, {"USER", "用户"},
    {"MODEL", "模型"}, {"UPDATED", "更新时间"}, {"DELETED", "删除时间"}, {"TITLE", "标题"},
    {"TRIAL", "试用"}, {"PAID", "付费"}, {"PAID_EXPIRES", "付费到期"}, {"ADMIN", "管理员"},
    {"BANNED", "封禁"}, {"REF", "关联"}, {"DATE", "日期"}, {"NEW_USERS", "新用户"}, {"ACTIVE", "活跃"},
    {"REDEEMED", "兑换"}, {"SOLD", "售出"}, {"TTFT_P50", "首字P50"}, {"TTFT_P95", "首字P95"},
    {"REVENUE", "收入"}, {"PROMPT_TOKENS", "输入令牌"}, {"COMPLETION_TOKENS", "输出令牌"},
    {"CREDITS", "次数"}, {"MARGIN", "毛利"}, {"ACTOR", "操作者"}, {"VIA", "途径"}, {"METHOD", "方法"},
    {"PARAMS", "参数"}, {"CHANGE", "变更"}, {"ORDER_NO", "订单号"}, {"AMOUNT", "金额"}, {"CHANNEL", "渠道"},
    {"PLAN", "套餐"}, {"SOURCE", "来源"}, {"FROM", "来自"}, {"VERDICT", "结论"}, {"DETAIL", "详情"},
    {"PRICE", "价格"},
};

// Splits a template at its "{}" placeholders: the literal pieces, one more than placeholders.
std::vector<std::string_view> literals_of(std::string_view pattern) {
    std::vector<std::string_view> pieces;
    for (;;) {
        const auto at = pattern.find("{}");
        pieces.push_back(pattern.substr(0, at));
        if (at == std::string_view::npos) return pieces;
        pattern.remove_prefix(at + 2);
    }
}

// The parts of `text` that fill the pattern's placeholders, or false when it does not match.
bool match(std::string_view pattern, std::string_view text, std::vector<std::string_view>& parts) {
    const auto pieces = literals_of(pattern);
    parts.clear();
    if (!text.starts_with(pieces.front())) return false;
    std::size_t at = pieces.front().size();
    for (std::size_t i = 1; i < pieces.size(); ++i) {
        const bool last = i + 1 == pieces.size();
        std::size_t found;
        if (last) {
            if (text.size() < at + pieces[i].size() || !text.ends_with(pieces[i])) return false;
            found = text.size() - pieces[i].size();
        } else {
            found = pieces[i].empty() ? at : text.find(pieces[i], at);
            if (found == std::string_view::npos) return false;
        }
        // An empty part would mean the pattern's words matched something else.
        if (found == at) return false;
        parts.push_back(text.substr(at, found - at));
        at = found + pieces[i].size();
    }
    return true;
}

std::string fill(std::string_view pattern, const std::vector<std::string>& values) {
    const auto pieces = literals_of(pattern);
    std::string out;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        if (i > 0 && i - 1 < values.size()) out += values[i - 1];
        out += pieces[i];
    }
    return out;
}

bool is_chinese_name(const char* value) {
    return value[0] == 'z' && value[1] == 'h' && (value[2] == '\0' || value[2] == '_' || value[2] == '-' ||
                                                  value[2] == '.' || value[2] == '@');
}

}  // namespace

bool chinese_locale(const char* lc_all, const char* lc_messages, const char* lang) {
    for (const char* value : {lc_all, lc_messages, lang})
        if (value && *value) return is_chinese_name(value);
    return false;
}

bool chinese() {
    static const bool answer =
        chinese_locale(std::getenv("LC_ALL"), std::getenv("LC_MESSAGES"), std::getenv("LANG"));
    return answer;
}

std::string translate(std::string_view english, bool to_chinese) {
    if (!to_chinese || english.empty()) return std::string(english);
    for (const auto& [pattern, chinese_text] : chinese_of)
        if (pattern == english) return std::string(chinese_text);
    std::vector<std::string_view> parts;
    for (const auto& [pattern, chinese_text] : chinese_of) {
        if (pattern.find("{}") == std::string_view::npos || !match(pattern, english, parts)) continue;
        std::vector<std::string> translated;
        // Sentences inside are translated too; single words are names (paths, ids, options).
        for (const auto part : parts)
            translated.push_back(part.find(' ') == std::string_view::npos ? std::string(part)
                                                                          : translate(part, true));
        return fill(chinese_text, translated);
    }
    return std::string(english);
}

std::string tr(std::string_view english) {
    return translate(english, chinese());
}

std::string say(std::string_view english_template, std::initializer_list<std::string> values) {
    const bool to_chinese = chinese();
    std::string_view pattern = english_template;
    if (to_chinese)
        for (const auto& [english, chinese_text] : chinese_of)
            if (english == english_template) pattern = chinese_text;
    return fill(pattern, std::vector<std::string>(values));
}

std::string daemon_message(std::string_view message, bool to_chinese) {
    // "中文 (english)": the bracket that closes the message, opened after a Chinese part.
    if (!message.ends_with(')')) return std::string(message);
    int depth = 0;
    std::size_t open = std::string_view::npos;
    for (std::size_t i = message.size(); i-- > 0;) {
        if (message[i] == ')') ++depth;
        if (message[i] == '(' && --depth == 0) {
            open = i;
            break;
        }
    }
    if (open == std::string_view::npos || open < 2 || message[open - 1] != ' ') return std::string(message);
    const auto chinese_part = message.substr(0, open - 1);
    const auto english_part = message.substr(open + 1, message.size() - open - 2);
    auto has_wide = [](std::string_view text) {
        for (const char c : text)
            if (static_cast<unsigned char>(c) >= 0x80) return true;
        return false;
    };
    if (!has_wide(chinese_part) || has_wide(english_part) || english_part.empty()) return std::string(message);
    return std::string(to_chinese ? chinese_part : english_part);
}

}  // namespace chatd::ctl
