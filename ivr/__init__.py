"""The anonymous police corruption and abuse hotline: telephony backend."""

from ivr.app import create_app
from ivr.config import Config

__all__ = ["Config", "create_app"]
