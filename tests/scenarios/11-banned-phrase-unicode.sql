-- 11-banned-phrase-unicode: phrases outside ASCII
INSERT INTO tone_banned (phrase) VALUES
    ('Гарантия'), ('économie garantie'), ('最便宜'), ('δωρεαν'), ('έκπτωση'), ('kredi');
