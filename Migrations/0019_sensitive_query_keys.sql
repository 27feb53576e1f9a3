-- Query keys whose values a site masks at log import besides the built-in ones (#23): a JSON
-- array of key names (`["voucher", "ref"]`), matched ignoring case.
ALTER TABLE sites ADD COLUMN sensitive_query_keys TEXT NOT NULL DEFAULT '[]';
