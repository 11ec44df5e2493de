ALTER TABLE `preference_tasks` ADD `task_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `preference_tasks_community_key` ON `preference_tasks` (`community_id`,`task_key`);