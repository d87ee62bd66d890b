"""The HTTP machinery shared by the sync and async clients."""
