"""payments: public face."""
