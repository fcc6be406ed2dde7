"""The personas and builders of base.py, offered to every test module of this package."""

from datacenter.tests.base import *  # noqa: F403 - pytest discovers the fixtures by name
