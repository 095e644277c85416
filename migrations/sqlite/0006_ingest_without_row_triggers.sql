-- PostgreSQL's 0006 drops foreign-key triggers that cost it a third of its
-- ingest CPU. SQLite keeps its foreign keys: they are cheap there, and
-- dropping one means rebuilding the table. This step exists so that both
-- databases apply the same migration versions in the same order.
SELECT 1;
