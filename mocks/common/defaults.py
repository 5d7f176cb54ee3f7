"""Defaults both sides agree on, so the embedded mocks work together with no configuration."""

#: The partner API key Braze issues to Mixpanel (HOUSE-1: configurable on both mocks).
DEFAULT_PARTNER_API_KEY = "local-mixpanel-partner-key"
#: The partner path name for Mixpanel (HOUSE-1).
MIXPANEL_PARTNER = "mixpanel"
