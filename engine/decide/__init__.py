"""Facts to conclusions: the experta engine compiled from the rules, and the session loop."""
