-- HubSpot companies and Salesforce accounts carry a domain; Zendesk organizations may not.
-- Set when a tenant is created, never changed by a later import (create-only).
ALTER TABLE tenants ADD COLUMN domain text;
