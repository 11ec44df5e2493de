CREATE TABLE `undone_follows` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`follow_iri` text NOT NULL,
	`follower_iri` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `undone_follows_follow` ON `undone_follows` (`follow_iri`,`follower_iri`);--> statement-breakpoint
CREATE INDEX `undone_follows_expiry` ON `undone_follows` (`expires_at`);