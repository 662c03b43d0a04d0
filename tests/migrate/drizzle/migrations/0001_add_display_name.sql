ALTER TABLE `users` ADD `display_name` text;--> statement-breakpoint
CREATE INDEX `posts_author_created_idx` ON `posts` (`author_id`,`created_at`);