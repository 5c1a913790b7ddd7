DROP STATISTICS IF EXISTS leads_sales_left_stats;
