"""Read models of the staff console, fed only by the internal notification log."""
