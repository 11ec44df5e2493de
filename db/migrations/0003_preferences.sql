CREATE TABLE `preference_import_staging` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`import_id` text NOT NULL,
	`community_id` integer NOT NULL,
	`policy_id` integer,
	`dedup_key` text NOT NULL,
	`record` text NOT NULL,
	`rater_id` text NOT NULL,
	`consent_train` integer NOT NULL,
	`consent_federate` integer NOT NULL,
	`consent_breakdown` integer NOT NULL,
	`source_name` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `preference_import_staging_import` ON `preference_import_staging` (`import_id`);--> statement-breakpoint
CREATE TABLE `preference_records` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`community_id` integer NOT NULL,
	`policy_id` integer,
	`dedup_key` text NOT NULL,
	`record` text NOT NULL,
	`rater_id` text NOT NULL,
	`consent_train` integer NOT NULL,
	`consent_federate` integer NOT NULL,
	`consent_breakdown` integer NOT NULL,
	`source_name` text,
	`task_id` integer,
	`user_id` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`policy_id`) REFERENCES `policies`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`task_id`) REFERENCES `preference_tasks`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `preference_records_dedup_key_unique` ON `preference_records` (`dedup_key`);--> statement-breakpoint
CREATE INDEX `preference_records_policy` ON `preference_records` (`policy_id`,`consent_train`);--> statement-breakpoint
CREATE INDEX `preference_records_community` ON `preference_records` (`community_id`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `preference_records_task_user` ON `preference_records` (`task_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `preference_tasks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`community_id` integer NOT NULL,
	`policy_id` integer,
	`version_iri` text,
	`clause_ids` text NOT NULL,
	`title` text DEFAULT '' NOT NULL,
	`prompt` text NOT NULL,
	`responses` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`closed_at` integer,
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`policy_id`) REFERENCES `policies`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `preference_tasks_community` ON `preference_tasks` (`community_id`);--> statement-breakpoint
ALTER TABLE `communities` ADD `min_group_size` integer DEFAULT 5 NOT NULL;