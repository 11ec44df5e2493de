CREATE TABLE `partner_votes` (
	`proposal_id` integer NOT NULL,
	`actor_iri` text NOT NULL,
	`value` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`proposal_id`, `actor_iri`),
	FOREIGN KEY (`proposal_id`) REFERENCES `proposals`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `communities` ADD `partners` text DEFAULT '[]' NOT NULL;