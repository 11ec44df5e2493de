CREATE TABLE `policies` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`iri` text NOT NULL,
	`owner_iri` text NOT NULL,
	`community_id` integer,
	`slug` text NOT NULL,
	`title` text NOT NULL,
	`summary` text DEFAULT '' NOT NULL,
	`licence` text NOT NULL,
	`draft` text,
	`draft_updated_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `policies_iri_unique` ON `policies` (`iri`);--> statement-breakpoint
CREATE UNIQUE INDEX `policies_community_slug` ON `policies` (`community_id`,`slug`);--> statement-breakpoint
CREATE INDEX `policies_owner` ON `policies` (`owner_iri`);--> statement-breakpoint
CREATE TABLE `policy_versions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`policy_id` integer NOT NULL,
	`iri` text NOT NULL,
	`number` integer NOT NULL,
	`content_hash` text NOT NULL,
	`changelog` text DEFAULT '' NOT NULL,
	`document` text NOT NULL,
	`published_at` integer NOT NULL,
	`received_at` integer NOT NULL,
	`retracted_at` integer,
	FOREIGN KEY (`policy_id`) REFERENCES `policies`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `policy_versions_iri_unique` ON `policy_versions` (`iri`);--> statement-breakpoint
CREATE UNIQUE INDEX `policy_versions_number` ON `policy_versions` (`policy_id`,`number`);