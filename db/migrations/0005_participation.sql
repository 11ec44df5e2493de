CREATE TABLE `proposal_votes` (
	`proposal_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`value` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`proposal_id`, `user_id`),
	FOREIGN KEY (`proposal_id`) REFERENCES `proposals`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `proposals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`policy_id` integer NOT NULL,
	`author_id` integer,
	`title` text NOT NULL,
	`summary` text DEFAULT '' NOT NULL,
	`changes` text NOT NULL,
	`base_version_iri` text NOT NULL,
	`level` text NOT NULL,
	`opened_at` integer NOT NULL,
	`closes_at` integer NOT NULL,
	`state` text DEFAULT 'open' NOT NULL,
	`tally` text,
	`closed_at` integer,
	`result_version_iri` text,
	`offer_iri` text,
	FOREIGN KEY (`policy_id`) REFERENCES `policies`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`author_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `proposals_policy` ON `proposals` (`policy_id`,`state`);--> statement-breakpoint
CREATE TABLE `statement_votes` (
	`statement_id` integer NOT NULL,
	`participant` text NOT NULL,
	`value` integer NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`statement_id`, `participant`),
	FOREIGN KEY (`statement_id`) REFERENCES `statements`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `statements` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`community_id` integer NOT NULL,
	`external_id` text,
	`clause_id` text,
	`body` text NOT NULL,
	`author` text NOT NULL,
	`moderation` text DEFAULT 'pending' NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `statements_external` ON `statements` (`community_id`,`external_id`);--> statement-breakpoint
ALTER TABLE `communities` ADD `decision_rules` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `communities` ADD `adopt_mode` text DEFAULT 'draft' NOT NULL;