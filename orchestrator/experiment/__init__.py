"""What one run is: its input files read into validated configuration objects."""
