CREATE TABLE `annotations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`iri` text NOT NULL,
	`author_iri` text NOT NULL,
	`policy_iri` text NOT NULL,
	`version_iri` text NOT NULL,
	`clause_id` text,
	`motivation` text NOT NULL,
	`text` text NOT NULL,
	`selector` text,
	`suggested_text` text,
	`note` text NOT NULL,
	`local` integer DEFAULT false NOT NULL,
	`published` integer NOT NULL,
	`updated_at` integer,
	`hidden_at` integer,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `annotations_iri_unique` ON `annotations` (`iri`);--> statement-breakpoint
CREATE INDEX `annotations_target` ON `annotations` (`policy_iri`,`clause_id`);--> statement-breakpoint
CREATE INDEX `annotations_author` ON `annotations` (`author_iri`);--> statement-breakpoint
CREATE TABLE `blocks` (
	`community_id` integer NOT NULL,
	`target` text NOT NULL,
	`kind` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`community_id`, `target`),
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `offers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`iri` text NOT NULL,
	`direction` text NOT NULL,
	`target_iri` text NOT NULL,
	`origin_iri` text NOT NULL,
	`actor_iri` text NOT NULL,
	`changes` text NOT NULL,
	`message` text DEFAULT '' NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`reason` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`decided_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `offers_iri_unique` ON `offers` (`iri`);--> statement-breakpoint
CREATE INDEX `offers_target` ON `offers` (`target_iri`,`state`);--> statement-breakpoint
CREATE TABLE `policy_forks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`policy_id` integer NOT NULL,
	`fork_iri` text NOT NULL,
	`fork_owner_iri` text NOT NULL,
	`forked_from_iri` text NOT NULL,
	`received_at` integer NOT NULL,
	FOREIGN KEY (`policy_id`) REFERENCES `policies`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `policy_forks_fork_iri_unique` ON `policy_forks` (`fork_iri`);--> statement-breakpoint
CREATE INDEX `policy_forks_policy` ON `policy_forks` (`policy_id`);--> statement-breakpoint
ALTER TABLE `policies` ADD `forked_from_iri` text;--> statement-breakpoint
ALTER TABLE `policies` ADD `forked_from_hash` text;--> statement-breakpoint
ALTER TABLE `policies` ADD `upstream_iri` text;--> statement-breakpoint
ALTER TABLE `policies` ADD `merge_base_iri` text;--> statement-breakpoint
ALTER TABLE `policies` ADD `pending_merge_iri` text;