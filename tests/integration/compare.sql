-- Compare stored touchpoints with the JSON lines that were published.
-- The JSON lines come on psql's standard input; prints the number of events whose stored row differs
-- from what was sent (0 when every field round-tripped exactly).
CREATE TEMP TABLE sent (doc jsonb);
\copy sent FROM pstdin WITH (FORMAT csv, QUOTE e'\x01', DELIMITER e'\x02')
SELECT count(*) AS mismatched FROM sent s LEFT JOIN touchpoints t ON t.id = s.doc->>'id'
WHERE t.id IS NULL
   OR t.source IS DISTINCT FROM s.doc->>'source'
   OR t.account IS DISTINCT FROM s.doc->>'account'
   OR t.contact IS DISTINCT FROM s.doc->>'contact'
   OR t.stage IS DISTINCT FROM s.doc->>'stage'
   OR t.channel IS DISTINCT FROM s.doc->>'channel'
   OR t.kind IS DISTINCT FROM s.doc->>'kind'
   OR t.occurred_at IS DISTINCT FROM to_timestamp ((s.doc->>'occurred_at')::numeric / 1000)
   OR t.actor IS DISTINCT FROM s.doc->>'actor'
   OR t.lead IS DISTINCT FROM coalesce (s.doc->>'lead', t.track)
   OR t.advisors IS DISTINCT FROM coalesce (ARRAY (SELECT jsonb_array_elements_text (s.doc->'advisors')), '{}')
   OR t.project IS DISTINCT FROM s.doc->>'project'
   OR t.theme IS DISTINCT FROM s.doc->>'theme'
   OR t.claims IS DISTINCT FROM s.doc->'claims'
   OR t.body IS DISTINCT FROM s.doc->>'body'
   OR t.attrs IS DISTINCT FROM s.doc->'attrs'
   OR t.category IS DISTINCT FROM coalesce (s.doc->>'category', 'one_to_one');
