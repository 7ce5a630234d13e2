"""A user's own settings: name, language, time zone, notifications, password."""
