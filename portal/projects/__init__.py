"""Projects: settings, account manager and client members."""
