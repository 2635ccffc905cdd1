"""Pure domain logic: normalising, matching, clustering, provenance, stance, alert policy.

Nothing in this package knows about faust or Kafka; agents in ``streams.agents``
wire these functions to topics, and batch tools call them directly.
"""
