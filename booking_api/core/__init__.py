"""What every part of the service stands on: settings, the database engine, column types,
migrations and logging."""
