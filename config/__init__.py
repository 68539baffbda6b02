"""Settings for every part of the system, read once from the environment.

Nothing here builds an engine, a client or an app: `Settings.from_env()` only
parses strings into typed values, so importing any module stays side-effect free.
"""
from config.settings import ConfigError, Settings

__all__ = ["ConfigError", "Settings"]
