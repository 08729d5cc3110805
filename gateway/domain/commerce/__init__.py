"""What the commerce domains (users, orders, payments, inventory) share: the
routed read/write base, input rules and the JSON codec of orders and payments."""
