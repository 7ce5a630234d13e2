"""Client organisations and their "know your client" profiles."""
