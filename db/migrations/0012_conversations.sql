CREATE TABLE `conversation_participants` (
	`conversation_id` integer NOT NULL,
	`participant` text NOT NULL,
	`xid` text,
	`polis_group` text,
	PRIMARY KEY(`conversation_id`, `participant`),
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `conversations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`community_id` integer NOT NULL,
	`name` text NOT NULL,
	`source` text NOT NULL,
	`topic` text,
	`url` text,
	`description` text,
	`summary` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `conversations_name` ON `conversations` (`community_id`,`name`);--> statement-breakpoint
-- Hand-written from here (drizzle-kit's table rebuild would drop `statements`
-- inside the migration transaction, where foreign keys stay on, and cascade
-- the drop to every vote). Votes wait in a table without foreign keys while
-- `statements` is rebuilt, then come back.
CREATE TABLE `__votes_copy` (`statement_id` integer NOT NULL, `participant` text NOT NULL, `value` integer NOT NULL, `at` integer);--> statement-breakpoint
INSERT INTO `__votes_copy` SELECT `statement_id`, `participant`, `value`, `at` FROM `statement_votes`;--> statement-breakpoint
DROP TABLE `statement_votes`;--> statement-breakpoint
CREATE TABLE `__new_statements` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`community_id` integer NOT NULL,
	`conversation_id` integer,
	`external_id` text,
	`clause_id` text,
	`body` text NOT NULL,
	`author` text NOT NULL,
	`moderation` text DEFAULT 'pending' NOT NULL,
	`polis_moderated` integer,
	`created_at` integer,
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `conversations` (`community_id`, `name`, `source`, `created_at`) SELECT DISTINCT `community_id`, 'main', 'local', CAST(strftime('%s', 'now') AS integer) * 1000 FROM `statements`;--> statement-breakpoint
INSERT INTO `__new_statements` (`id`, `community_id`, `conversation_id`, `external_id`, `clause_id`, `body`, `author`, `moderation`, `created_at`) SELECT s.`id`, s.`community_id`, c.`id`, s.`external_id`, s.`clause_id`, s.`body`, s.`author`, s.`moderation`, s.`created_at` FROM `statements` s JOIN `conversations` c ON c.`community_id` = s.`community_id` AND c.`name` = 'main';--> statement-breakpoint
DROP TABLE `statements`;--> statement-breakpoint
ALTER TABLE `__new_statements` RENAME TO `statements`;--> statement-breakpoint
CREATE UNIQUE INDEX `statements_external` ON `statements` (`conversation_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `statements_community` ON `statements` (`community_id`);--> statement-breakpoint
CREATE TABLE `statement_votes` (
	`statement_id` integer NOT NULL,
	`participant` text NOT NULL,
	`value` integer NOT NULL,
	`at` integer,
	PRIMARY KEY(`statement_id`, `participant`),
	FOREIGN KEY (`statement_id`) REFERENCES `statements`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `statement_votes` SELECT * FROM `__votes_copy`;--> statement-breakpoint
DROP TABLE `__votes_copy`;
