"""Accounts: login, sessions, invitations and password resets."""
