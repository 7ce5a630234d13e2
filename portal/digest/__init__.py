"""The daily digest: one email a day per person, at their hour, of everything that waits on them."""
