"""The what-if engine (issue 19): N weeks of the whole network from a start state, under a
scenario, replicated with confidence intervals. Plain data in, plain data out: the start
state is read from the database by `booking_api.simulation`, never here."""
