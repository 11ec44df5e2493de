CREATE TABLE `remote_proposals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`iri` text NOT NULL,
	`policy_iri` text NOT NULL,
	`owner_iri` text NOT NULL,
	`name` text NOT NULL,
	`content_html` text DEFAULT '' NOT NULL,
	`end_time` integer,
	`closed_at` integer,
	`counts` text NOT NULL,
	`voters` integer,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `remote_proposals_iri_unique` ON `remote_proposals` (`iri`);--> statement-breakpoint
CREATE INDEX `remote_proposals_policy` ON `remote_proposals` (`policy_iri`);