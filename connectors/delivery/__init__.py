"""Alert delivery: Slack (incoming webhooks, Web API) and signed webhooks, driven from the alerts topic."""
