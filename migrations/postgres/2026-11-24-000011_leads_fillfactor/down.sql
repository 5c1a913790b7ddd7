ALTER TABLE leads RESET (fillfactor);
