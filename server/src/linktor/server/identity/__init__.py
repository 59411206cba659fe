"""Identity and tenancy: tenants, users and roles, API keys, authentication."""
