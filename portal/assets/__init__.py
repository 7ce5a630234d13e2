"""Asset collection: requests for files, uploads, reviews and reminders."""
