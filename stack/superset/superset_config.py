"""Superset's configuration for the stack (native and compose), loaded through
SUPERSET_CONFIG_PATH. Every secret and address comes from the environment (stack/services.json,
docker-compose.yml); nothing here is specific to one instance."""

import os

from superset.config import TALISMAN_CONFIG as _DEFAULT_TALISMAN

# Signs sessions and encrypts the connection passwords Superset stores: generated per instance
# (stack/stackctl/secrets.py); Superset's own default is a public constant.
SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
# Superset's metadata database, owned by its own role (never the warehouse).
SQLALCHEMY_DATABASE_URI = os.environ["SUPERSET_METADATA_URI"]
# The examples are loaded only by `superset load-examples`, which the stack never runs; no
# examples database either.
SQLALCHEMY_EXAMPLES_URI = None

# No Redis: one gunicorn worker, so in-process caches are enough (the default is no cache).
# The filter-state and explore caches keep their default, the metadata database.
CACHE_CONFIG = {
    "CACHE_TYPE": "SimpleCache",
    "CACHE_DEFAULT_TIMEOUT": 300,
    "CACHE_KEY_PREFIX": "superset_",
}
DATA_CACHE_CONFIG = {
    "CACHE_TYPE": "SimpleCache",
    "CACHE_DEFAULT_TIMEOUT": 300,
    "CACHE_KEY_PREFIX": "superset_data_",
}
# The login rate limiter's counters stay in memory (said explicitly: no Redis to point it at).
RATELIMIT_STORAGE_URI = "memory://"


def _password_from_env(url):
    """The warehouse password, read from the environment each time Superset connects as the
    analyst: the dashboards/ files never hold it."""
    if url.username == "analyst":
        return os.environ["ANALYST_PASSWORD"]
    return url.password


SQLALCHEMY_CUSTOM_PASSWORD_STORE = _password_from_env

# Telemetry: the PyPI build's menu always renders a Scarf tracking pixel and no setting turns
# it off at run time; without its hosts in the Content Security Policy the browser never loads it.
_csp = _DEFAULT_TALISMAN["content_security_policy"]
TALISMAN_CONFIG = {
    **_DEFAULT_TALISMAN,
    "content_security_policy": {
        **_csp,
        "img-src": [source for source in _csp["img-src"] if "scarf.sh" not in source],
    },
}
