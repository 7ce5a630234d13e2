"""The first page each role sees after logging in."""
