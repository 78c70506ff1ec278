-- Recording an attempt writes a new version of its delivery's log row, a
-- little longer than the first (response code and time, completed_at).
-- At fillfactor 90 only the first few rows of a page found room for it:
-- deliveries are queued together and attempted together, so about four in
-- five moved to another page, adding an entry to each of the table's
-- indexes. With half of each new page left free nearly every attempt is a
-- HOT update, and the table is no larger for it: the versions that moved
-- took that much room on other pages anyway.
ALTER TABLE deliveries SET (fillfactor = 50);
