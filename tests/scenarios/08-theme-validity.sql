-- 08-theme-validity: a campaign theme valid for 30 days
INSERT INTO tone_themes (name, stages, valid_from, valid_to, note) VALUES
    ('08-spring', '{*}', '2026-02-05 00:00:00.000+00', '2026-03-07 00:00:00.000+00', 'scenario 08'),
    ('08-anywhere', '{}', NULL, NULL, 'scenario 08');
