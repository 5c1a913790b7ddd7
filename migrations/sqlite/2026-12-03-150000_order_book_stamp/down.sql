DROP TRIGGER organisations_book_update;
DROP TRIGGER standing_orders_book_update;
DROP TRIGGER standing_orders_book_delete;
DROP TRIGGER standing_orders_book_insert;
DROP TABLE order_book_stamp;
