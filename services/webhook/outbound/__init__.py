"""Outbound merchant webhooks: events published by the services that own the objects,
their deliveries to the merchant's endpoints (WebhookDeliveryWorkflow), the dashboard's
list and replay."""
