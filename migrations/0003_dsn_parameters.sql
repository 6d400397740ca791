ALTER TABLE `messages` ADD `dsn_ret` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `dsn_envid` text;--> statement-breakpoint
ALTER TABLE `recipients` ADD `dsn_notify` text;--> statement-breakpoint
ALTER TABLE `recipients` ADD `dsn_orcpt` text;