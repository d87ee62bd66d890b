"""The platform's web pages, behind the gateway: the hosted checkout and the dashboard's
built assets."""
