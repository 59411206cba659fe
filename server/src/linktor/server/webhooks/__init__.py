"""Outbound webhooks: tenant events POSTed to tenant URLs per the Standard Webhooks spec."""
