"""Progress updates: manual updates, the weekly proactive update, comments and acknowledgements."""
