"""Tools run by developers and the build, never by the running system."""
