"""Real-time delivery to users' open WebSocket streams (``/ws/feed``)."""
