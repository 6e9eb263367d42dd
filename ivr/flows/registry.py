"""Which flow answers new calls, and every version a call in progress may be pinned to.

New calls get the flow file as it is now: a change to the file is picked up by the
next call, without a restart. An invalid change is refused, its problems are logged,
and the last valid version keeps serving. Each version is stored in the database by its
content hash, so any process can continue a call that another process started.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from ivr.db import Database
from ivr.flows.engine import Engine
from ivr.flows.loader import FlowInvalid, LoadedFlow, load_flow_file, load_flow_text
from ivr.logs import event
from ivr.models import FlowVersion

logger = logging.getLogger(__name__)


class UnknownFlowVersion(LookupError):
    """A call is pinned to a version this database does not hold."""


class FlowRegistry:
    """Load, cache and store flow versions; hand out engines for them."""

    def __init__(self, path: Path, db: Database) -> None:
        self._path = path
        self._db = db
        self._lock = threading.Lock()
        self._engines: dict[str, Engine] = {}
        self._stored: set[str] = set()
        self._signature: tuple[int, int] | None = None
        # Refuse to start on an invalid flow: there is no last valid version yet.
        self._current = load_flow_file(path)
        self._signature = self._file_signature()
        self._engines[self._current.content_hash] = Engine(self._current.flow)

    @property
    def path(self) -> Path:
        return self._path

    def current(self) -> LoadedFlow:
        """Return the flow for a new call, reloading the file if it changed."""
        signature = self._file_signature()
        if signature != self._signature:
            with self._lock:
                if signature != self._signature:
                    self._reload(signature)
        current = self._current
        if current.content_hash not in self._stored:
            self._store(current)
        return current

    def engine(self, content_hash: str) -> Engine:
        """Return the engine for a stored version (a call's pinned flow)."""
        engine = self._engines.get(content_hash)
        if engine is None:
            # A read beside the callback's own transaction, which may hold SQLite's lock.
            with self._db.reading() as session:
                version = session.get(FlowVersion, content_hash)
                if version is None:
                    raise UnknownFlowVersion(content_hash)
                text = version.content
            loaded = load_flow_text(text, f"<flow version {content_hash[:12]}>", self._path.parent)
            engine = self._engines.setdefault(content_hash, Engine(loaded.flow))
        return engine

    def _reload(self, signature: tuple[int, int] | None) -> None:
        self._signature = signature
        try:
            loaded = load_flow_file(self._path)
        except FlowInvalid as invalid:
            event(
                logger,
                "flow.refused",
                logging.ERROR,
                file=self._path.name,
                problems=len(invalid.problems),
                serving=self._current.content_hash[:12],
            )
            for problem in invalid.problems:
                logger.error("flow.problem %s", problem)
            return
        if loaded.content_hash != self._current.content_hash:
            self._engines.setdefault(loaded.content_hash, Engine(loaded.flow))
            self._current = loaded
            event(logger, "flow.loaded", file=self._path.name, version=loaded.content_hash[:12])

    def _file_signature(self) -> tuple[int, int] | None:
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def _store(self, loaded: LoadedFlow) -> None:
        try:
            with self._db.transaction() as session:
                if session.get(FlowVersion, loaded.content_hash) is None:
                    session.add(
                        FlowVersion(
                            content_hash=loaded.content_hash,
                            name=loaded.flow.name,
                            content=loaded.content,
                        )
                    )
        except IntegrityError:
            pass  # another process stored the same version first
        self._stored.add(loaded.content_hash)
