CREATE TABLE `sent_votes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`activity_iri` text NOT NULL,
	`note_iri` text NOT NULL,
	`voter_iri` text NOT NULL,
	`proposal_iri` text NOT NULL,
	`owner_iri` text NOT NULL,
	`value` text NOT NULL,
	`state` text DEFAULT 'sent' NOT NULL,
	`reason` text,
	`sent_at` integer NOT NULL,
	`answered_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sent_votes_activity_iri_unique` ON `sent_votes` (`activity_iri`);--> statement-breakpoint
CREATE UNIQUE INDEX `sent_votes_note_iri_unique` ON `sent_votes` (`note_iri`);--> statement-breakpoint
CREATE INDEX `sent_votes_voter` ON `sent_votes` (`voter_iri`,`proposal_iri`);--> statement-breakpoint
-- Fedify remembered, per origin, that RFC 9421 signatures "worked" when a
-- server answered 202 before verifying (and then dropped them). Forget every
-- remembered choice: deliveries start again with draft-cavage (firstKnock).
DELETE FROM `fedify_kv` WHERE substr(`key`, 1, 39) = '["_fedify","httpMessageSignaturesSpec",';
