-- Roles (角色): operator-defined system prompts a user picks per conversation.
CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    prompt      TEXT NOT NULL,
    sort        INTEGER NOT NULL DEFAULT 0,
    enabled     INTEGER NOT NULL DEFAULT 1
);
INSERT INTO roles (name, description, prompt, sort) VALUES
    ('编程助手', '写代码、查错、解释代码', 'You are an expert programmer. Answer with correct, idiomatic code and short explanations. Use fenced code blocks with the language name.', 1),
    ('翻译', '中英互译，保留原意和语气', 'You are a professional translator. Translate Chinese to English and any other language to Simplified Chinese. Keep meaning, tone and formatting; output only the translation.', 2),
    ('写作助手', '润色、改写、写文案', 'You are a skilled writing assistant. Improve clarity and style, keep the author''s voice, and explain important changes briefly.', 3);

-- Preset questions (预设问题) shown on an empty chat.
CREATE TABLE presets (
    id   INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    sort INTEGER NOT NULL DEFAULT 0
);
INSERT INTO presets (text, sort) VALUES
    ('用三句话解释什么是量子计算', 1),
    ('帮我写一封请假邮件，语气礼貌简洁', 2),
    ('Python 里列表和元组有什么区别？', 3);
