CREATE TABLE "supplier_performance" (
	"supplier_id" text NOT NULL,
	"year" integer NOT NULL,
	"sampling_result" text NOT NULL,
	"complaints" integer NOT NULL,
	"logistics_delay_rate" double precision NOT NULL,
	"financial_statements_abnormal" boolean NOT NULL,
	"quality_score" integer NOT NULL,
	"recorded_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "supplier_performance_supplier_id_year_pk" PRIMARY KEY("supplier_id","year")
);
--> statement-breakpoint
CREATE TABLE "suppliers" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"category" text NOT NULL,
	"tier" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"owner_id" text NOT NULL,
	"contact_name" text,
	"contact_phone" text,
	"contact_email" text,
	"conditions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"last_review_case_id" text,
	"last_risk_grade" text,
	"next_review_due" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "subject_type" text;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "subject_id" text;--> statement-breakpoint
ALTER TABLE "evidence" ADD COLUMN "document_type" text;--> statement-breakpoint
ALTER TABLE "supplier_performance" ADD CONSTRAINT "supplier_performance_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suppliers" ADD CONSTRAINT "suppliers_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "suppliers_status_idx" ON "suppliers" USING btree ("status");--> statement-breakpoint
CREATE INDEX "suppliers_name_idx" ON "suppliers" USING btree ("name");--> statement-breakpoint
CREATE INDEX "cases_subject_idx" ON "cases" USING btree ("subject_type","subject_id");