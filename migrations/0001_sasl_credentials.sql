ALTER TABLE `accounts` ADD `scram1_stored_key` text;--> statement-breakpoint
ALTER TABLE `accounts` ADD `scram1_server_key` text;--> statement-breakpoint
ALTER TABLE `accounts` ADD `shared_secret` text;