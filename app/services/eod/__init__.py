"""eod: public face."""
