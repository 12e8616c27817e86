-- 008: judging by canonical ids (issue 14). The coordinator loads the alias
-- tables of 007 at start and again on every NOTIFY dualtrack_identity; the
-- rules judge a buyer by its canonical id (the id normalised, then resolved
-- through the aliases). A stored touchpoint keeps what the publisher sent
-- (account, contact) and gains the canonical ids it was judged by; a
-- finding gains its touchpoint's canonical account. Rows stored before this
-- migration have NULL keys: the views fall back to the ids as sent.
-- ADD COLUMN without a default rewrites nothing, on every partition (006).

ALTER TABLE touchpoints
    ADD COLUMN account_key text,        -- the canonical account at judgement time
    ADD COLUMN contact_key text;        -- the canonical contact (NULL: no contact)
ALTER TABLE findings
    ADD COLUMN account_key text;        -- its touchpoint's account_key

-- Every alias map load the coordinator attempted: a refused change is
-- recorded here with the reason naming the rows, and the previous mapping
-- stays in force; an accepted one says what changed
CREATE TABLE identity_reloads (
    at          timestamptz NOT NULL DEFAULT now(),
    ok          boolean NOT NULL,
    message     text NOT NULL
);
GRANT SELECT, INSERT ON identity_reloads TO dualtrack_writer;
GRANT SELECT ON identity_reloads TO dualtrack_analyst;

-- The analyst views group by canonical ids. Their columns stay as they
-- were (same names, same meaning for one id per buyer); new ones come last.
CREATE OR REPLACE VIEW touchpoint_facts AS
SELECT t.id, t.track, t.account, t.contact, t.stage, s.position AS stage_position,
       s.owner, t.lead, t.advisors, t.category, t.channel, t.kind, t.theme,
       t.occurred_at, (t.occurred_at AT TIME ZONE 'UTC')::date AS day, t.verdict,
       (t.track = 'marketing' OR t.lead = 'marketing' OR 'marketing' = ANY (t.advisors))
           AS marketing_part,
       (t.track = 'sales' OR t.lead = 'sales' OR 'sales' = ANY (t.advisors)) AS sales_part,
       ((t.track = 'marketing' OR t.lead = 'marketing' OR 'marketing' = ANY (t.advisors))
        AND (t.track = 'sales' OR t.lead = 'sales' OR 'sales' = ANY (t.advisors))) AS joint,
       t.track <> s.owner AS outside_ownership,
       (t.track <> s.owner AND t.lead <> s.owner AND NOT s.owner = ANY (t.advisors))
           AS outside_not_joint,
       NOT EXISTS (SELECT 1 FROM findings f
                   WHERE f.touchpoint_id = t.id
                     AND f.rule IN (SELECT r.rule FROM rule_catalog r WHERE r.tone)) AS tone_ok,
       coalesce (t.account_key, t.account) AS account_key,
       coalesce (t.contact_key, t.contact) AS contact_key
FROM touchpoints t
LEFT JOIN stage_owners s ON s.stage = t.stage;

-- accounts: distinct buyers (canonical accounts)
CREATE OR REPLACE VIEW findings_daily AS
SELECT (f.occurred_at AT TIME ZONE 'UTC')::date AS day, f.rule, f.track,
       count(*) AS findings,
       count(*) FILTER (WHERE f.severity = 'violation') AS violations,
       count(*) FILTER (WHERE f.severity = 'warn') AS warnings,
       count(*) FILTER (WHERE f.severity = 'info') AS infos,
       count(DISTINCT f.touchpoint_id) AS touchpoints,
       count(DISTINCT coalesce (f.account_key, f.account)) AS accounts
FROM findings f
GROUP BY 1, 2, 3;

CREATE OR REPLACE VIEW account_timeline AS
SELECT t.account, t.occurred_at, (t.occurred_at AT TIME ZONE 'UTC')::date AS day,
       t.id, t.contact, t.stage, s.owner, t.track, t.lead, t.advisors,
       CASE WHEN t.track = 'marketing' THEN t.channel || ' ' || t.kind END AS marketing_touch,
       CASE WHEN t.lead = 'marketing' THEN 'lead'
            WHEN 'marketing' = ANY (t.advisors) THEN 'advisor'
            WHEN t.track = 'marketing' THEN 'publisher' END AS marketing_role,
       CASE WHEN t.track = 'sales' THEN t.channel || ' ' || t.kind END AS sales_touch,
       CASE WHEN t.lead = 'sales' THEN 'lead'
            WHEN 'sales' = ANY (t.advisors) THEN 'advisor'
            WHEN t.track = 'sales' THEN 'publisher' END AS sales_role,
       t.theme, t.verdict,
       f.finding_count, f.rules, f.findings,
       coalesce (t.account_key, t.account) AS account_key,
       coalesce (t.contact_key, t.contact) AS contact_key
FROM touchpoints t
LEFT JOIN stage_owners s ON s.stage = t.stage
CROSS JOIN LATERAL (
    SELECT count(*) AS finding_count,
           coalesce (string_agg (x.rule, ',' ORDER BY x.finding_no), '') AS rules,
           coalesce (jsonb_agg (jsonb_build_object ('rule', x.rule, 'severity', x.severity,
                                                    'message', x.message, 'related', x.related)
                                ORDER BY x.finding_no), '[]'::jsonb) AS findings
    FROM findings x WHERE x.touchpoint_id = t.id) f;

CREATE OR REPLACE VIEW collisions AS
SELECT f.touchpoint_id, f.account, t.contact, f.track, f.severity, f.occurred_at,
       (f.occurred_at AT TIME ZONE 'UTC')::date AS day, f.related, f.message,
       coalesce (f.account_key, f.account) AS account_key,
       coalesce (t.contact_key, t.contact) AS contact_key
FROM findings f
JOIN touchpoints t ON t.id = f.touchpoint_id
WHERE f.rule = 'collision';

-- Per buyer: account is the canonical account (account_key of the
-- collisions), contacts counts canonical contacts
CREATE OR REPLACE VIEW collisions_by_account AS
WITH involved AS (
    SELECT c.account_key, count(DISTINCT x.id) AS touchpoints
    FROM collisions c, unnest (c.related || c.touchpoint_id) AS x (id)
    GROUP BY c.account_key)
SELECT c.account_key AS account,
       count(*) AS collisions,
       count(*) FILTER (WHERE c.track = 'marketing') AS marketing,
       count(*) FILTER (WHERE c.track = 'sales') AS sales,
       count(DISTINCT c.contact_key) AS contacts,
       i.touchpoints,
       min(c.occurred_at) AS first_at,
       max(c.occurred_at) AS last_at
FROM collisions c
JOIN involved i ON i.account_key = c.account_key
GROUP BY c.account_key, i.touchpoints;

GRANT SELECT ON touchpoint_facts, findings_daily, account_timeline, collisions,
                collisions_by_account TO dualtrack_analyst;
