"""PySide6 windows, panels, workers and the command-line entry point."""
