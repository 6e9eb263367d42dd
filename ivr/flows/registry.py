"""Which flow answers new calls, and every version a call in progress may be pinned to.

New calls get the version published in the database. Every process looks for a newly
published version every few seconds, so a publish reaches all web processes without a
restart; calls in progress keep the version they started on, loaded by its hash. On a
fresh database the flow file is published as the first version.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from ivr.flows.engine import Engine
from ivr.flows.loader import LoadedFlow, load_flow_file, load_flow_text
from ivr.flows.versions import VersionError, publish, published
from ivr.models.flows import Announcement, FlowVersion, PromptAudio
from ivr.platform.db import Database, utcnow
from ivr.platform.logs import event

logger = logging.getLogger(__name__)


# After a failed look for a new version, how long to wait before the next one.
FAILED_REFRESH_BACKOFF_SECONDS = 10.0


class UnknownFlowVersion(LookupError):
    """A call is pinned to a version this database does not hold."""


class FlowRegistry:
    """Track the published version; hand out engines for any stored version."""

    def __init__(self, path: Path, db: Database, poll_seconds: float = 2.0) -> None:
        self._path = path
        self._db = db
        self._poll = poll_seconds
        self._lock = threading.Lock()
        self._engines: dict[str, Engine] = {}
        # Refuse to start on an invalid file: it is what a fresh database publishes.
        self._file = load_flow_file(path)
        self._name = self._file.flow.name
        self._current: LoadedFlow | None = None
        self._checked = float("-inf")
        # Recorded prompts and the announcement change without a new version.
        self._recorded: dict[tuple[str, str], str] = {}
        # Counts changes to the recorded prompts, which change what a step sounds like
        # without a new version (see CallHandler's remembered answers).
        self.prompts_revision = 0
        self._announcement: dict[str, str] = {}
        self._announcement_ends: datetime | None = None

    @property
    def path(self) -> Path:
        return self._path

    @property
    def name(self) -> str:
        return self._name

    def current(self) -> LoadedFlow:
        """Return the version for a new call, looking for a newer one every few seconds."""
        now = time.monotonic()
        if self._current is None or now - self._checked >= self._poll:
            with self._lock:
                if self._current is None or now - self._checked >= self._poll:
                    self._checked = now
                    try:
                        self._refresh()
                    except Exception:
                        if self._current is None:
                            raise
                        # The database is away: new calls still get the version we
                        # know, since menus need nothing else. Only one call in a while
                        # waits on another attempt (it may wait out a connect timeout).
                        self._checked = now + FAILED_REFRESH_BACKOFF_SECONDS
                        event(logger, "flow.refresh_failed", logging.WARNING, flow=self._name)
        assert self._current is not None
        return self._current

    def engine(self, content_hash: str) -> Engine:
        """Return the engine for a stored version (a call's pinned flow)."""
        engine = self._engines.get(content_hash)
        if engine is None:
            engine = self._engines.setdefault(content_hash, self._engine(self._load(content_hash)))
        return engine

    def recorded_prompt(self, step: str, language: str) -> str | None:
        """The uploaded recording for a step in a language, if the ops team gave one."""
        return self._recorded.get((step, language))

    def announcement(self, language: str) -> str | None:
        """The service announcement's text in ``language``, while it is switched on."""
        self.current()  # keeps it fresh
        if self._announcement_ends is not None and self._announcement_ends <= utcnow():
            return None
        return self._announcement.get(language) or None

    def _refresh(self) -> None:
        with self._db.reading() as session:
            version = published(session, self._name)
            found = (version.content_hash, version.content) if version else None
        if found is None:
            with contextlib.suppress(VersionError):  # another process published first
                publish(self._db, self._file, "system", f"first published from {self._path.name}")
            with self._db.reading() as session:
                version = published(session, self._name)
                assert version is not None
                found = (version.content_hash, version.content)
        with self._db.reading() as session:
            recorded = {
                (row.step, row.language): row.id
                for row in session.scalars(
                    select(PromptAudio).where(PromptAudio.flow == self._name)
                )
            }
            if recorded != self._recorded:
                self.prompts_revision += 1  # answers remembered with the old prompts are stale
            self._recorded = recorded
            notice = session.get(Announcement, self._name)
            self._announcement = dict(notice.texts) if notice is not None and notice.active else {}
            self._announcement_ends = notice.ends_at if notice is not None else None
        content_hash, content = found
        if self._current is None or self._current.content_hash != content_hash:
            loaded = load_flow_text(
                content, f"<{self._name} {content_hash[:12]}>", self._path.parent
            )
            self._engines.setdefault(content_hash, self._engine(loaded))
            self._current = loaded
            event(logger, "flow.serving", flow=self._name, version=content_hash[:12])

    def _engine(self, loaded: LoadedFlow) -> Engine:
        # Recorded prompts and the announcement are looked up as each call hears them.
        return Engine(loaded.flow, self.recorded_prompt, self.announcement)

    def _load(self, content_hash: str) -> LoadedFlow:
        # A read beside the callback's own transaction, which may hold SQLite's lock.
        with self._db.reading() as session:
            version = session.get(FlowVersion, content_hash)
            if version is None:
                raise UnknownFlowVersion(content_hash)
            content = version.content
        return load_flow_text(content, f"<flow version {content_hash[:12]}>", self._path.parent)
