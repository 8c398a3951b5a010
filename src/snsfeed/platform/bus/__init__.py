"""The event bus: one consumer API over two backends.

* embedded / no broker: the ``outbox`` table read as a log; offsets in ``consumer_offsets``.
* ``SNSFEED_BROKER_URL=nats://…``: a relay publishes outbox rows to JetStream (the event id
  is the message id, so the server drops duplicates) and each consumer group is a durable
  pull consumer shared by every worker process running that group.
"""
