"""Service-level timekeeping: working-day calendars and deadlines for support procedures."""
