CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`login` text NOT NULL,
	`scram_salt` text NOT NULL,
	`scram_iterations` integer NOT NULL,
	`scram_stored_key` text NOT NULL,
	`scram_server_key` text NOT NULL,
	`disabled` integer DEFAULT false NOT NULL,
	`note` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_login` ON `accounts` (lower("login"));--> statement-breakpoint
CREATE TABLE `delivery_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` text NOT NULL,
	`recipient` text NOT NULL,
	`relay` text NOT NULL,
	`status` text NOT NULL,
	`reply` text NOT NULL,
	`at` integer NOT NULL,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `attempts_message` ON `delivery_attempts` (`message_id`,`at`);--> statement-breakpoint
CREATE TABLE `map_entries` (
	`table_name` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	`secret` integer DEFAULT false NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`table_name`, `key`)
);
--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text,
	`sasl_username` text,
	`sasl_method` text,
	`client_address` text NOT NULL,
	`mail_from` text NOT NULL,
	`body_key` text,
	`size` integer NOT NULL,
	`header_message_id` text,
	`eight_bit` integer DEFAULT false NOT NULL,
	`smtputf8` integer DEFAULT false NOT NULL,
	`state` text NOT NULL,
	`state_reason` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`lease_until` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `messages_due` ON `messages` (`state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `messages_account` ON `messages` (`account_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `recipients` (
	`message_id` text NOT NULL,
	`position` integer NOT NULL,
	`address` text NOT NULL,
	`status` text NOT NULL,
	`last_reply` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`message_id`, `position`),
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
