-- New chunks' words go straight into the full-text index's tree. With GIN's default fastupdate
-- they wait in an unsorted pending list (up to gin_pending_list_limit, 4 MB: a few thousand
-- chunks of every tenant) that every keyword search reads through in full, so while documents
-- are being indexed each keyword search costs more with every chunk written since the last
-- flush, and the flush lands on whichever commit crosses the limit. Writing into the tree
-- costs each commit a little more, and keeps a keyword search's cost independent of ingest.
ALTER INDEX chunks_tsv_idx SET (fastupdate = off);
-- What is already pending moves into the tree now rather than at the next vacuum.
SELECT gin_clean_pending_list('chunks_tsv_idx'::regclass);
