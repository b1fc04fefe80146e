"""The account store: the organisation's platform accounts imported from the platform's exports,
so deskbot can say where an email address is already in use (see normalise, importer, lookup)."""
