DROP TABLE unapplied_payments;
DROP TABLE billing_runs;
DROP TABLE once_keys;
