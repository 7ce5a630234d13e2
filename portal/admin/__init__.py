"""Agency administration: people and their access."""
