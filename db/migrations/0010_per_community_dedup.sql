DROP INDEX `preference_records_dedup_key_unique`;--> statement-breakpoint
CREATE INDEX `preference_records_federated` ON `preference_records` (`policy_id`,`consent_federate`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `preference_records_community_dedup` ON `preference_records` (`community_id`,`dedup_key`);