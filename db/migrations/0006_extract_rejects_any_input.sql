-- Up Migration
-- Issue 11 item 8: a reject of any input fits. jsonb (and text) cannot hold U+0000 or a lone
-- surrogate, so a record carrying one made the reject insert fail. The payload column now holds
-- the record with each such character replaced by U+FFFD (still queryable), and payload_text the
-- record exactly as received (its JSON text, where those characters are \u escapes), only when
-- the two differ. The loader's INSERT on the table covers the new column (docs/operations.md).
alter table audit.extract_rejects add column payload_text text;
comment on column audit.extract_rejects.payload_text is
'The record as received (JSON text, secrets removed) when payload had to replace U+0000 or a lone surrogate with U+FFFD; null otherwise';

-- Down Migration
alter table audit.extract_rejects drop column payload_text;
