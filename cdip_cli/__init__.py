"""The `cdip` command line: one typer app whose command groups live one per module."""
