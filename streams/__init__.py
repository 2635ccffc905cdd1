"""corroborate stream processing: records, topics, agents and the domain logic they call."""
