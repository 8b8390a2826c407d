-- Chunk vectors live in the table row, not in TOAST. pgvector's default storage (EXTERNAL)
-- moved every 384-dimension vector (1.5 kB) out of the row once text and tsv made it pass
-- 2 kB, so the exact scan of a tenant read each vector through the TOAST index: 6-8 µs a
-- chunk. MAIN keeps the vector in the row (text and tsv go out of line first; a vector is
-- moved out only if the row still exceeds a page), and the exact scan costs ~1.5 µs a chunk
-- (bench/million_chunks.py). Catalog only: rows written from now on hold their vector
-- inline; older rows keep it out of line (still correct, only slower to scan exactly) until
-- their document is replaced or the table is rewritten (VACUUM FULL chunks).
ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE MAIN;
