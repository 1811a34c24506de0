"""Login flows, stored credentials and the token lifecycle."""
