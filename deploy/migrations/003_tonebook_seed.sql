-- 003: a starting tone book (edit it with SQL; the coordinator reloads it)
INSERT INTO tone_themes (name, stages, note) VALUES
    ('secure-by-default', '{awareness,interest,consideration,intent,evaluation,negotiation}',
     'the 2026 security positioning'),
    ('fast-onboarding', '{awareness,interest,consideration,intent,evaluation}',
     'live in a week'),
    ('cloud-first', '{awareness,interest,consideration}', 'upper funnel only');
INSERT INTO tone_themes (name, stages, valid_to, retired, note) VALUES
    ('legacy-savings', '{awareness,interest}', '2025-01-01', true, 'retired with the 2024 pricing');
INSERT INTO tone_claims (key, value) VALUES
    ('support', '24/7');
INSERT INTO tone_banned (phrase) VALUES
    ('guaranteed'), ('risk-free'), ('best in the world'), ('no brainer');
