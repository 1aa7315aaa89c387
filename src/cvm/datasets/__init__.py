"""datasets layer of CVM."""
