-- A buyer's auction log finds its pings through the 256 ms windows it bid in (see
-- `domain::ping::bid_window`), not a per-bid index: that index took one entry per bidder
-- per ping, each at the bidder's own place in it, so every ping dirtied a page per
-- bidding buyer (a third of SQLite's ping write on the bench). A window row is written
-- by the buyer's first bid in it; later bids find it there and write nothing.
CREATE TABLE ping_bid_windows (
    buyer_id TEXT NOT NULL,
    -- The first 11 characters of the window's ping ids.
    window_start TEXT NOT NULL,
    PRIMARY KEY (buyer_id, window_start)
) WITHOUT ROWID;
INSERT INTO ping_bid_windows (buyer_id, window_start)
SELECT DISTINCT buyer_id, substr(ping_id, 1, 11) FROM ping_bids;
DROP INDEX ping_bids_buyer_idx;
