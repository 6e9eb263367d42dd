"""A publish reaches every server within seconds, with no restart."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.functional.servers import free_port, ivr, running, running_emulator

pytestmark = pytest.mark.slow


def test_two_servers_sharing_a_database_both_serve_a_newly_published_flow(tmp_path: Path) -> None:
    # Given two web servers (as on two machines) sharing one database
    flows = tmp_path / "call_flows"
    shutil.copytree(REPO / "call_flows", flows)
    first, second, emulator = free_port(), free_port(), free_port()
    env = {
        "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}",
        "IVR_FLOWS_DIR": str(flows),
        "IVR_TWILIO_API_URL": f"http://127.0.0.1:{emulator}",
        "IVR_FLOW_POLL_SECONDS": "0.5",
    }
    assert ivr(["db", "upgrade"], env, tmp_path).returncode == 0
    assert ivr(["keys", "init"], env, tmp_path).returncode == 0
    servers = [
        {**env, "IVR_BIND": f"127.0.0.1:{port}", "IVR_PUBLIC_URL": f"http://127.0.0.1:{port}"}
        for port in (first, second)
    ]

    def hears(server: dict[str, str]) -> str:
        heard = ivr(["call", "--keys", "1,hangup"], server, tmp_path)
        assert heard.returncode == 0, heard.stderr
        return heard.stdout

    with (
        running_emulator(emulator, env, tmp_path),
        running(
            ["serve", "--workers", "1"],
            servers[0],
            tmp_path,
            f"http://127.0.0.1:{first}/healthz",
            tmp_path / "first.log",
        ),
        running(
            ["serve", "--workers", "1"],
            servers[1],
            tmp_path,
            f"http://127.0.0.1:{second}/healthz",
            tmp_path / "second.log",
        ),
    ):
        assert all("If you, or anyone else, is in immediate danger" in hears(s) for s in servers)
        # When the operations team publishes new wording
        hotline = flows / "hotline.yaml"
        hotline.write_text(
            hotline.read_text().replace(
                "If you, or anyone else, is in immediate danger", "If anyone is in danger right now"
            )
        )
        published = ivr(
            ["flows", "publish", str(hotline), "-m", "plainer safety message"], env, tmp_path
        )
        assert "Published hotline version 2." in published.stdout, published.stderr
        # Then within a few seconds both servers give it to new callers (with slack for a
        # busy CI machine: a server that never reloads still fails)
        deadline = time.monotonic() + 30
        while not all("If anyone is in danger right now" in hears(s) for s in servers):
            assert time.monotonic() < deadline, "a server kept the old flow"
            time.sleep(0.3)
