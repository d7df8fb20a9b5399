"""Shared pytest configuration: the real test bed fixtures (registry + ACR service)."""

from tests.testbed.fixtures import *  # noqa: F401,F403
