"""Home timelines: pagination, refresh and (later) fan-out and real-time delivery."""
