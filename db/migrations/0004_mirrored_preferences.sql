CREATE TABLE `mirrored_preferences` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`iri` text NOT NULL,
	`policy_iri` text NOT NULL,
	`record` text NOT NULL,
	`consent_train` integer NOT NULL,
	`consent_breakdown` integer NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mirrored_preferences_iri_unique` ON `mirrored_preferences` (`iri`);--> statement-breakpoint
CREATE INDEX `mirrored_preferences_policy` ON `mirrored_preferences` (`policy_iri`);