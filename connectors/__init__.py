"""Sources that push items onto Kafka and sinks that deliver alerts."""
