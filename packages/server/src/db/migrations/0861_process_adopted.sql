-- Tasks of an older generation that a deployment found already on its release (hosts it did not
-- touch): the process orchestrator counts them as current instead of replacing them. Emptied by
-- the next restart or declaration (a new generation).
ALTER TABLE process_specs ADD COLUMN adopted text[] NOT NULL DEFAULT '{}';
