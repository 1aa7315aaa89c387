"""Business layer: margins, CLV, equity, tiers, lifecycle, strategies. Arrives with issue 4."""
