#pragma once
// The flat XML WeChat pushes (<xml><Field><![CDATA[..]]></Field>…</xml>) and passive replies.
// Deliberately small: no DTDs, no namespaces, no attributes beyond being ignored.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace chatd::wechat {

// Field name → text. Nested elements are flattened as "Parent/Child". nullopt on anything that
// is not well-formed, has no <xml> root, or declares a DOCTYPE.
using xml_fields = std::map<std::string, std::string, std::less<>>;
std::optional<xml_fields> parse_xml(std::string_view text);

std::string cdata(std::string_view text);  // <![CDATA[text]]>, safe for any text

// A passive text reply; `to` is the user's openid, `from` the account's id.
std::string text_reply(std::string_view to, std::string_view from, std::int64_t create_time,
                       std::string_view content);
// The safe-mode envelope around an encrypted reply.
std::string encrypted_reply(std::string_view encrypted, std::string_view msg_signature,
                            std::string_view timestamp, std::string_view nonce);

}  // namespace chatd::wechat
