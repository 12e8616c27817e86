-- 005: views for analysts (docs/schema.md describes every column).
--
-- Two small configuration tables the views read, so that nothing about the
-- funnel or the rule families is written into a view:
--   stage_owners  the funnel stages in order and the track owning each; keep
--                 it equal to the daemons' `stages` setting (the default
--                 funnel is seeded here)
--   rule_catalog  every rule id, and whether it is a tone rule
-- Days are UTC calendar dates, like the dates in findings' messages.
-- Views are plain (not materialised): they always show the current store.

CREATE TABLE stage_owners (
    stage       text PRIMARY KEY,
    position    smallint NOT NULL UNIQUE,    -- 1 = top of the funnel
    owner       text NOT NULL CHECK (owner IN ('marketing', 'sales'))
);
INSERT INTO stage_owners (stage, position, owner) VALUES
    ('awareness', 1, 'marketing'), ('interest', 2, 'marketing'),
    ('consideration', 3, 'marketing'), ('intent', 4, 'sales'),
    ('evaluation', 5, 'sales'), ('negotiation', 6, 'sales'), ('purchase', 7, 'sales');

CREATE TABLE rule_catalog (
    rule        text PRIMARY KEY,            -- the rule id (proto/PROTOCOL.md)
    tone        boolean NOT NULL,            -- counts against tone compliance
    summary     text NOT NULL
);
INSERT INTO rule_catalog (rule, tone, summary) VALUES
    ('stage_crossing', false, 'a track touched a stage the other track owns, without it'),
    ('collision', false, 'both tracks touched the same contact within the window, independently'),
    ('unknown_theme', true, 'theme not in the tone book, retired, or outside its dates'),
    ('theme_stage', true, 'theme not approved for the stage'),
    ('banned_phrase', true, 'a banned phrase in the body, theme or a claim'),
    ('claim_conflict', true, 'a claim contradicts the leading track or the tone book'),
    ('lead_violation', true, 'the non-leading track introduced a theme or claim'),
    ('sequence', false, 'sales touched an account before marketing opened the road'),
    ('key_project_solo', false, 'lower-funnel work on a key project without the other track'),
    ('contact_pressure', false, 'too many touches to a contact or account in the period');

-- findings_daily filters on this expression (report, analysts' date ranges)
CREATE INDEX findings_day ON findings (((occurred_at AT TIME ZONE 'UTC')::date));

-- One row per touchpoint with what the analyst views derive from it. Filter
-- on occurred_at (indexed) for a date range.
CREATE VIEW touchpoint_facts AS
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
                     AND f.rule IN (SELECT r.rule FROM rule_catalog r WHERE r.tone)) AS tone_ok
FROM touchpoints t
LEFT JOIN stage_owners s ON s.stage = t.stage;

-- Findings per UTC day, rule and track (the track whose touchpoint broke it)
CREATE VIEW findings_daily AS
SELECT (f.occurred_at AT TIME ZONE 'UTC')::date AS day, f.rule, f.track,
       count(*) AS findings,
       count(*) FILTER (WHERE f.severity = 'violation') AS violations,
       count(*) FILTER (WHERE f.severity = 'warn') AS warnings,
       count(*) FILTER (WHERE f.severity = 'info') AS infos,
       count(DISTINCT f.touchpoint_id) AS touchpoints,
       count(DISTINCT f.account) AS accounts
FROM findings f
GROUP BY 1, 2, 3;

-- Tone compliance per track and theme (theme NULL: touchpoints without one):
-- the share of touchpoints with no finding of a tone rule
CREATE VIEW tone_compliance AS
SELECT track, theme,
       count(*) AS touchpoints,
       count(*) FILTER (WHERE tone_ok) AS compliant,
       count(*) FILTER (WHERE NOT tone_ok) AS with_tone_findings,
       round(count(*) FILTER (WHERE tone_ok)::numeric / count(*), 4) AS compliance
FROM touchpoint_facts
GROUP BY track, theme;

-- An account's history, both tracks side by side: one row per touchpoint,
-- ordered by (account, occurred_at) through the index of that name
CREATE VIEW account_timeline AS
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
       f.finding_count, f.rules, f.findings
FROM touchpoints t
LEFT JOIN stage_owners s ON s.stage = t.stage
CROSS JOIN LATERAL (
    SELECT count(*) AS finding_count,
           coalesce (string_agg (x.rule, ',' ORDER BY x.finding_no), '') AS rules,
           coalesce (jsonb_agg (jsonb_build_object ('rule', x.rule, 'severity', x.severity,
                                                    'message', x.message, 'related', x.related)
                                ORDER BY x.finding_no), '[]'::jsonb) AS findings
    FROM findings x WHERE x.touchpoint_id = t.id) f;

-- Per funnel stage (in funnel order): its owner, touches by each track, and
-- how many were made by the track that does not own it (outside_ownership),
-- of those without the owner taking part (outside_not_joint). A stage found
-- in touchpoints but missing from stage_owners appears with a NULL owner.
CREATE VIEW stage_ownership AS
SELECT coalesce (s.stage, a.stage) AS stage, s.position, s.owner,
       coalesce (a.touches, 0) AS touches,
       coalesce (a.marketing_touches, 0) AS marketing_touches,
       coalesce (a.sales_touches, 0) AS sales_touches,
       coalesce (a.joint_touches, 0) AS joint_touches,
       coalesce (a.outside_ownership, 0) AS outside_ownership,
       coalesce (a.outside_not_joint, 0) AS outside_not_joint
FROM stage_owners s
FULL JOIN (
    SELECT stage, count(*) AS touches,
           count(*) FILTER (WHERE track = 'marketing') AS marketing_touches,
           count(*) FILTER (WHERE track = 'sales') AS sales_touches,
           count(*) FILTER (WHERE joint) AS joint_touches,
           count(*) FILTER (WHERE outside_ownership) AS outside_ownership,
           count(*) FILTER (WHERE outside_not_joint) AS outside_not_joint
    FROM touchpoint_facts GROUP BY stage) a ON a.stage = s.stage;

-- One row per collision finding: the touchpoint that raised it and the
-- other track's touchpoints it collided with (related)
CREATE VIEW collisions AS
SELECT f.touchpoint_id, f.account, t.contact, f.track, f.severity, f.occurred_at,
       (f.occurred_at AT TIME ZONE 'UTC')::date AS day, f.related, f.message
FROM findings f
JOIN touchpoints t ON t.id = f.touchpoint_id
WHERE f.rule = 'collision';

-- Collisions per account, most first: collision findings, on which track's
-- touchpoints, how many contacts and touchpoints (both sides) were involved
CREATE VIEW collisions_by_account AS
WITH involved AS (
    SELECT c.account, count(DISTINCT x.id) AS touchpoints
    FROM collisions c, unnest (c.related || c.touchpoint_id) AS x (id)
    GROUP BY c.account)
SELECT c.account,
       count(*) AS collisions,
       count(*) FILTER (WHERE c.track = 'marketing') AS marketing,
       count(*) FILTER (WHERE c.track = 'sales') AS sales,
       count(DISTINCT c.contact) AS contacts,
       i.touchpoints,
       min(c.occurred_at) AS first_at,
       max(c.occurred_at) AS last_at
FROM collisions c
JOIN involved i ON i.account = c.account
GROUP BY c.account, i.touchpoints;
