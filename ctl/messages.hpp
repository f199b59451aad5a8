#pragma once
// chatctl speaks the operator's language: Chinese when the locale is Chinese, English otherwise.
// Messages are written in English in the code; a table gives their Chinese. Help text stays
// English (it is the man page's, and commands and options are English words anyway).
#include <initializer_list>
#include <string>
#include <string_view>

namespace chatd::ctl {

// Whether the first non-empty of LC_ALL, LC_MESSAGES and LANG (as the C library looks them
// up) names a Chinese locale ("zh_CN.UTF-8", "zh_TW", "zh").
bool chinese_locale(const char* lc_all, const char* lc_messages, const char* lang);
// The same for this process's environment, read once.
bool chinese();

// `english` in the operator's language. A message may hold "{}" placeholders in the table;
// `translate` then matches the actual text against it and translates the pieces too, so
// "cannot connect to /x: no such socket (is chatd running?)" comes out whole in Chinese.
// Text the table does not know stays as it is.
std::string translate(std::string_view english, bool to_chinese);
std::string tr(std::string_view english);

// A message with "{}" placeholders filled in order, in the operator's language.
std::string say(std::string_view english_template, std::initializer_list<std::string> values);

// The daemon phrases many errors as "中文 (english)": in English only the part in brackets
// is shown, in Chinese only the part before them. Other messages are kept whole.
std::string daemon_message(std::string_view message, bool to_chinese);

}  // namespace chatd::ctl
