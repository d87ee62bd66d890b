"""Every API operation, described once as a Call; the sync and async clients bind them."""
