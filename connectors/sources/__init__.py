"""Source connectors: they bring posts and wire copy onto the items topic.

Each source maps its service's payload to :class:`streams.records.Item`, hands
it to a :class:`~connectors.sources.publish.Publisher` (which drops repeats,
produces with ``acks=all`` keyed by item id, and checkpoints the source's
position after the items are acknowledged), and counts what it did in
:class:`~connectors.sources.publish.SourceStats`.
"""
