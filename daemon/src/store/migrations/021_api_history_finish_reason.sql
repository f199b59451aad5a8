-- A user's choice to see the questions they asked through the API in the web history.
ALTER TABLE users ADD COLUMN show_api_history INTEGER NOT NULL DEFAULT 0;
-- Why the upstream ended an answer when it said so (stop, length, content_filter, …); the API
-- passes it on to the client as the completion's finish_reason.
ALTER TABLE messages ADD COLUMN finish_reason TEXT;
