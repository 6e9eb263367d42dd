"""Container health check: can this process still sign in to its database?

ECS hands a task its database password once, when the task starts, and RDS rotates that
password (weekly by default). A task left holding the old one fails this check, and ECS
replaces it with a task that reads the current secret. Uses only the environment
contract (IVR_DATABASE_URL, IVR_DATABASE_PASSWORD), so it keeps working whatever the app
does inside.
"""

from __future__ import annotations

import os
import sys

import sqlalchemy
from sqlalchemy.pool import NullPool


def main() -> int:
    """Open one fresh connection and run ``SELECT 1``; exit 0 if that works."""
    url = sqlalchemy.make_url(os.environ.get("IVR_DATABASE_URL", ""))
    password = os.environ.get("IVR_DATABASE_PASSWORD", "")
    if password:
        url = url.set(password=password)
    options = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
    engine = sqlalchemy.create_engine(url, poolclass=NullPool, connect_args=options)
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
    except sqlalchemy.exc.SQLAlchemyError as error:
        # The class only: a driver's message can carry the host and user name.
        print(f"database unreachable: {type(error).__name__}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
