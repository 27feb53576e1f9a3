-- Page keys (#13): scripts whose pages are told apart by one query value, a JSON array of
-- {"script": "/doku.php", "key": "id"}. Their pages are rows of `urls` whose path carries the
-- query (`/doku.php?id=start`), flagged `page-key` (256).
ALTER TABLE sites ADD COLUMN page_keys TEXT NOT NULL DEFAULT '[]';
