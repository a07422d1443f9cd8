"""The discrete-event core: an integer-nanosecond event queue and its run loop."""
