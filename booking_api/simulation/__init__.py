"""What-if simulations for service managers (issue 19): the start state read from the live
database, runs as background jobs with their progress, and their results."""
