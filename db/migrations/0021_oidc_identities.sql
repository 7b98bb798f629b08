-- Sign-in with the company's identity provider (issue 13 §3): the console
-- user an OpenID Connect identity (issuer, subject) signs in as. A user is
-- found by this pair only, never by e-mail address: an address is not an
-- identity, and linking by it would let whoever controls an address at the
-- provider take over the console user who has it (api/oidc.ts).
-- The runtime role gets read and write on it from
-- governance_grant_runtime_role (migration 0018), run after every migration.
CREATE TABLE "user_identities" (
	"issuer" text NOT NULL,
	"subject" text NOT NULL,
	"user_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_sign_in_at" timestamp with time zone,
	CONSTRAINT "user_identities_issuer_subject_pk" PRIMARY KEY("issuer","subject"),
	CONSTRAINT "user_identities_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action
);
--> statement-breakpoint
-- One identity per provider per user: two accounts at one provider never share a console user.
CREATE UNIQUE INDEX "user_identities_issuer_user_id_idx" ON "user_identities" USING btree ("issuer","user_id");
