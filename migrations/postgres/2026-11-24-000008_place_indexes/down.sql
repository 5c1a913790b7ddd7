DROP INDEX leads_city_idx;
DROP INDEX leads_region_idx;
CREATE INDEX leads_place_idx ON leads (country, region, city, captured_at);
