-- A model that thinks before it answers: set by the operator, or learnt from its first answer
-- that carried reasoning. Visitors see it as a badge in the model picker.
ALTER TABLE models ADD COLUMN reasoning BIGINT NOT NULL DEFAULT 0;

-- Operators try their own site for free: their questions are marked (and cost nothing).
ALTER TABLE messages ADD COLUMN asked_by_admin BIGINT NOT NULL DEFAULT 0;
