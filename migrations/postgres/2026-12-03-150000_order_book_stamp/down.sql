DROP TRIGGER organisations_book_change ON organisations;
DROP TRIGGER standing_orders_book_change ON standing_orders;
DROP FUNCTION bump_order_book();
DROP TABLE order_book_stamp;
