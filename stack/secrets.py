#!/usr/bin/env python3
"""Prints fresh secrets for .env: Airflow's Fernet key, API secret key and JWT secret.

    python3 stack/secrets.py >> .env     (or: make secrets)

A Fernet key is 32 random bytes, url-safe base64 encoded: generated here with the standard
library, so no Airflow install is needed to make one.
"""

import base64
import secrets

print(f"AIRFLOW_FERNET_KEY={base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}")
print(f"AIRFLOW_SECRET_KEY={secrets.token_urlsafe(32)}")
print(f"AIRFLOW_JWT_SECRET={secrets.token_urlsafe(32)}")
