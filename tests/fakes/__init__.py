"""Fakes shared by the test layers: stand-ins that behave like the real thing, never mocks of calls."""
