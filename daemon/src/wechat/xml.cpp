#include "wechat/xml.hpp"

#include <cctype>
#include <cstdint>

namespace chatd::wechat {

namespace {

struct parser {
    std::string_view s;
    std::size_t pos = 0;
    int depth = 0;
    xml_fields out;

    bool eat(std::string_view token) {
        if (s.substr(pos).starts_with(token)) {
            pos += token.size();
            return true;
        }
        return false;
    }
    void skip_space() {
        while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos]))) ++pos;
    }
    // "<Name ...>" already past '<'; attributes are skipped. Returns false on a bad name.
    bool open_tag(std::string& name, bool& self_closing) {
        std::size_t start = pos;
        while (pos < s.size() && (std::isalnum(static_cast<unsigned char>(s[pos])) || s[pos] == '_' ||
                                  s[pos] == '-' || s[pos] == '.' || s[pos] == ':'))
            ++pos;
        name = std::string(s.substr(start, pos - start));
        if (name.empty()) return false;
        auto end = s.find('>', pos);
        if (end == std::string_view::npos) return false;
        self_closing = end > pos && s[end - 1] == '/';
        pos = end + 1;
        return true;
    }
    bool entity(std::string& text) {
        auto end = s.find(';', pos);
        if (end == std::string_view::npos || end - pos > 10) return false;
        auto name = s.substr(pos + 1, end - pos - 1);
        pos = end + 1;
        if (name == "lt") text += '<';
        else if (name == "gt") text += '>';
        else if (name == "amp") text += '&';
        else if (name == "quot") text += '"';
        else if (name == "apos") text += '\'';
        else if (name.starts_with('#')) {
            std::uint32_t cp = 0;
            bool hexa = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
            auto digits = name.substr(hexa ? 2 : 1);
            if (digits.empty()) return false;
            for (char c : digits) {
                int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                        : hexa && std::isxdigit(static_cast<unsigned char>(c))
                            ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                            : -1;
                if (v < 0 || cp > 0x10FFFF) return false;
                cp = cp * (hexa ? 16 : 10) + static_cast<std::uint32_t>(v);
            }
            if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
            if (cp < 0x80) text += static_cast<char>(cp);
            else if (cp < 0x800) {
                text += static_cast<char>(0xC0 | (cp >> 6));
                text += static_cast<char>(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                text += static_cast<char>(0xE0 | (cp >> 12));
                text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                text += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
                text += static_cast<char>(0xF0 | (cp >> 18));
                text += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
                text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                text += static_cast<char>(0x80 | (cp & 0x3F));
            }
        } else
            return false;
        return true;
    }
    // The content of element `name` up to and including its end tag.
    bool element(const std::string& name, const std::string& path) {
        if (++depth > 8) return false;
        std::string text;
        while (pos < s.size()) {
            if (eat("<![CDATA[")) {
                auto end = s.find("]]>", pos);
                if (end == std::string_view::npos) return false;
                text.append(s.substr(pos, end - pos));
                pos = end + 3;
            } else if (eat("<!--")) {
                auto end = s.find("-->", pos);
                if (end == std::string_view::npos) return false;
                pos = end + 3;
            } else if (eat("</")) {
                if (!eat(name)) return false;
                skip_space();
                if (!eat(">")) return false;
                if (!path.empty()) out[path] = std::move(text);  // the root (path "") holds no text
                --depth;
                return true;
            } else if (eat("<")) {
                if (pos < s.size() && (s[pos] == '!' || s[pos] == '?')) return false;
                std::string child;
                bool self_closing = false;
                if (!open_tag(child, self_closing)) return false;
                auto child_path = depth == 1 ? child : path + "/" + child;
                if (self_closing) out[child_path] = "";
                else if (!element(child, child_path)) return false;
            } else if (s[pos] == '&') {
                if (!entity(text)) return false;
            } else {
                text += s[pos++];
            }
        }
        return false;
    }
};

void append_escaped_cdata(std::string& out, std::string_view text) {
    out += "<![CDATA[";
    std::size_t at;
    while ((at = text.find("]]>")) != std::string_view::npos) {
        out.append(text.substr(0, at + 2));
        out += "]]><![CDATA[";
        text.remove_prefix(at + 2);
    }
    out.append(text);
    out += "]]>";
}

}  // namespace

std::optional<xml_fields> parse_xml(std::string_view text) {
    if (text.find("<!DOCTYPE") != std::string_view::npos || text.find("<!ENTITY") != std::string_view::npos)
        return std::nullopt;
    parser p;
    p.s = text;
    p.skip_space();
    if (p.eat("<?xml")) {
        auto end = text.find("?>", p.pos);
        if (end == std::string_view::npos) return std::nullopt;
        p.pos = end + 2;
        p.skip_space();
    }
    std::string root;
    bool self_closing = false;
    if (!p.eat("<") || !p.open_tag(root, self_closing) || root != "xml" || self_closing) return std::nullopt;
    // The root's children are the fields; depth 1 means "directly under <xml>".
    if (!p.element("xml", "")) return std::nullopt;
    p.skip_space();
    if (p.pos != text.size()) return std::nullopt;
    return std::move(p.out);
}

std::string cdata(std::string_view text) {
    std::string out;
    append_escaped_cdata(out, text);
    return out;
}

std::string text_reply(std::string_view to, std::string_view from, std::int64_t create_time,
                       std::string_view content) {
    return "<xml><ToUserName>" + cdata(to) + "</ToUserName><FromUserName>" + cdata(from) +
           "</FromUserName><CreateTime>" + std::to_string(create_time) +
           "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>" + cdata(content) + "</Content></xml>";
}

std::string encrypted_reply(std::string_view encrypted, std::string_view msg_signature,
                            std::string_view timestamp, std::string_view nonce) {
    return "<xml><Encrypt>" + cdata(encrypted) + "</Encrypt><MsgSignature>" + cdata(msg_signature) +
           "</MsgSignature><TimeStamp>" + std::string(timestamp) + "</TimeStamp><Nonce>" + cdata(nonce) +
           "</Nonce></xml>";
}

}  // namespace chatd::wechat
