"""cli layer of CVM."""
