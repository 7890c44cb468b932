"""Intake of citizens' submissions: ``public`` (public side, imports no domain module) stores
them as inert records; ``importer`` (internal side) validates them again and runs the command.
This package module imports neither, so that the public side can load ``public`` alone."""
