CREATE INDEX ping_bids_buyer_idx ON ping_bids (buyer_id, ping_id);
DROP TABLE ping_bid_windows;
