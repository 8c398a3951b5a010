"""Likes, threaded comments and shares, and the counters on each post."""
