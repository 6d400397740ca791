CREATE TABLE `relay_oauth2` (
	`name` text PRIMARY KEY NOT NULL,
	`token_endpoint` text NOT NULL,
	`client_id` text NOT NULL,
	`client_secret` text,
	`refresh_token` text NOT NULL,
	`scope` text,
	`access_token` text,
	`access_token_expires_at` integer,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sasl_auth_cache` (
	`key` text PRIMARY KEY NOT NULL,
	`server` text NOT NULL,
	`username` text NOT NULL,
	`reply` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
