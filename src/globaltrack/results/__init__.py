"""Raw-result files (ours and imported formats), leaderboards and submission export."""
