DROP INDEX `fedify_queue_due`;--> statement-breakpoint
ALTER TABLE `fedify_queue` ADD `host` text;--> statement-breakpoint
CREATE INDEX `fedify_queue_claim` ON `fedify_queue` (`queue`,`deliver_at`,`id`,`locked_until`,`host`,`ordering_key`,`attempts`);--> statement-breakpoint
CREATE INDEX `fedify_queue_in_flight` ON `fedify_queue` (`queue`,`locked_until`);