"""The API as the `alliance` command serves it: `api.main.create_app` with the loaders'
upload checker, so `POST /screen` and `screen` check uploads as the loaders check rows.

The API's layer may not import the loaders; this top layer puts the two together. For
uvicorn: `alliance.api_app:create_app` (a factory).
"""

from __future__ import annotations

from fastapi import FastAPI

from api import main
from core.settings import get_settings
from loaders.uploads import UploadChecker


def create_app() -> FastAPI:
    return main.create_app(upload_checker=UploadChecker(get_settings().pii_key()))
