"""deskbot in Slack: the Bolt app, its listeners, and the HTTP and Socket Mode runners."""
