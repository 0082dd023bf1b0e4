"""What the person gives: account settings, profiles, settings files, text to mine."""
