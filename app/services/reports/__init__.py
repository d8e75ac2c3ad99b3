"""reports: public face."""
