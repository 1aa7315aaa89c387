"""Use cases that every front end (CLI, API, web) calls: import, summarise, export."""
