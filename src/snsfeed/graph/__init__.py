"""Social graph: follow, block, mute and follower lists."""
