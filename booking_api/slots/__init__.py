"""Diary tables (the sessions a room runs and the bookable slots inside them) and what the
slot rules need to judge a slot for a request: the request's facts and the site table."""
