-- Tokens expire (issue 11 §9). A token issued from now on is given its expiry
-- by whoever issues it (TOKEN_TTL_DAYS, default 90 days, or the admin's
-- choice). Tokens that exist before this migration get the default 90 days
-- counted from the migration, not from their creation: a token created long
-- ago must not stop working, unannounced, the moment the release is deployed.
-- Their holders have 90 days to ask an admin for a new one.
ALTER TABLE "api_tokens" ADD COLUMN "expires_at" timestamp with time zone;
--> statement-breakpoint
UPDATE "api_tokens" SET "expires_at" = now() + interval '90 days';
--> statement-breakpoint
ALTER TABLE "api_tokens" ALTER COLUMN "expires_at" SET NOT NULL;
--> statement-breakpoint
-- The line manager (issue 11 §8: case participants and their managers may read
-- the case). Set by an admin; never oneself.
ALTER TABLE "users" ADD COLUMN "manager_id" text;
--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_manager_id_users_id_fk" FOREIGN KEY ("manager_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_manager_not_self" CHECK ("users"."manager_id" <> "users"."id");
--> statement-breakpoint
CREATE INDEX "users_manager_id_idx" ON "users" USING btree ("manager_id");
