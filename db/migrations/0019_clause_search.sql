-- Full-text index of the clauses of every policy's newest live version
-- (src/policies/search.ts keeps it in step, in the transactions that store,
-- receive and retract versions). SQLite FTS5; a PostgreSQL deployment would
-- use a tsvector column with a GIN index instead. Filled at start for
-- versions stored before it existed.
CREATE VIRTUAL TABLE `clause_search` USING fts5(
	`policy_id` UNINDEXED,
	`version_id` UNINDEXED,
	`clause_id` UNINDEXED,
	`title`,
	`body`,
	`examples`,
	tokenize = 'porter unicode61 remove_diacritics 2'
);
