"""Outside services down while people call, against the real service (``ivr serve``).

Each story: callers call while a service the worker needs is down; every caller records,
nothing is erased at Twilio early and nothing is parked; once the service is back,
every recording is stored exactly once and every recording and call log erased at
Twilio within 60 s. How long the healing took is printed (``pytest -s`` shows it).

However long an outage lasts, a waiting job spends no attempt and backs off no further
than the next probe (tests/worker/test_s3_kms.py runs an hour of it on a clock it
controls), so a short real outage here stands for a long one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import func, select

from ivr.dev.phone import HOTLINE_NUMBER, CallLog
from ivr.models.calls import JobState, RecordingJob
from ivr.models.reports import Report, ReportSource, ReportStatus
from tests.functional.hotline import (
    RECOVERY_SECONDS,
    Hotline,
    assert_nothing_lost_and_nothing_left,
    everything_erased,
    within,
)
from tests.functional.servers import free_port, ivr
from tests.functional.static_site import StaticSite

pytestmark = pytest.mark.slow

CALLERS = 5
AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-2",
}


@dataclass
class Aws:
    """S3 and KMS (moto) on a port of their own, which a test may stop and start again."""

    port: int
    server: ThreadedMotoServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        # moto keeps its buckets and keys in this process: they are all there again.
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for name, value in AWS.items():
        monkeypatch.setenv(name, value)
    port = free_port()
    running = Aws(port, ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False))
    running.server.start()
    try:
        yield running
    finally:
        running.stop()


def on_s3_and_kms(hotline: Hotline, aws: Aws) -> None:
    """Point the hotline at S3 under KMS, as in production."""
    s3 = boto3.client("s3", endpoint_url=aws.url, region_name="eu-west-2")
    kms = boto3.client("kms", endpoint_url=aws.url, region_name="eu-west-2")
    bucket = f"hotline-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    hotline.env.update(
        AWS,
        IVR_STORAGE_URL=f"s3://{bucket}/recordings",
        IVR_S3_ENDPOINT_URL=aws.url,
        IVR_KEY_SERVICE="kms",
        IVR_KMS_KEY_ID=kms.create_key()["KeyMetadata"]["KeyId"],
        IVR_KMS_ENDPOINT_URL=aws.url,
    )


def in_bucket(hotline: Hotline, aws: Aws) -> list[str]:
    """The names of the objects in the hotline's bucket (every version of each)."""
    bucket, prefix = hotline.env["IVR_STORAGE_URL"].removeprefix("s3://").split("/", 1)
    s3 = boto3.client("s3", endpoint_url=aws.url, region_name="eu-west-2")
    listed = s3.list_object_versions(Bucket=bucket, Prefix=prefix + "/")
    return [version["Key"].rsplit("/", 1)[-1] for version in listed.get("Versions", [])]


def waiting_jobs(hotline: Hotline, service: str) -> int:
    return hotline.count(
        select(func.count())
        .select_from(RecordingJob)
        .where(RecordingJob.waiting_for == service, RecordingJob.attempts == 0)
    )


def assert_nothing_parked_and_nothing_erased_early(hotline: Hotline) -> None:
    parked = (
        select(func.count()).select_from(RecordingJob).where(RecordingJob.state == JobState.FAILED)
    )
    audio_failed = (
        select(func.count()).select_from(Report).where(Report.status == ReportStatus.AUDIO_FAILED)
    )
    assert hotline.count(parked) == hotline.count(audio_failed) == 0
    assert hotline.emulator.state.deleted_recordings == []  # Twilio keeps its copy meanwhile


def healed(hotline: Hotline, calls: list[CallLog], what: str) -> float:
    seconds = within(
        RECOVERY_SECONDS, lambda: everything_erased(hotline, calls), f"healed after {what}"
    )
    print(f"\n{what}: every recording stored and erased at Twilio {seconds:.1f} s after recovery")
    return seconds


def test_callers_report_while_the_store_and_key_service_refuse_connections(
    hotline: Hotline, aws: Aws
) -> None:
    on_s3_and_kms(hotline, aws)
    with hotline.serving():
        # Given S3 and KMS refuse every connection while people call
        aws.stop()
        calls = [hotline.call("1,1,1,1,#,1") for _ in range(CALLERS)]
        # Then every caller recorded, and each recording's job waits for the service
        assert all(len(log.recordings) == 1 for log in calls)
        within(
            RECOVERY_SECONDS,
            lambda: waiting_jobs(hotline, "keys") + waiting_jobs(hotline, "store") == CALLERS,
            "every job waiting for the store or the keys",
        )
        time.sleep(5)  # a worker's probes find them still down, round after round
        assert_nothing_parked_and_nothing_erased_early(hotline)
        # When they are back, every report is stored and erased at Twilio within a minute
        aws.start()
        healed(hotline, calls, "S3 and KMS refusing connections")
    assert_nothing_lost_and_nothing_left(hotline, calls, stored=lambda: in_bucket(hotline, aws))


def test_callers_report_while_twilios_rest_side_answers_503(hotline: Hotline) -> None:
    with hotline.serving():
        # Given Twilio's REST side answers 503 to everything while people call
        hotline.emulator.state.faults["rest_down"] = 1
        calls = [hotline.call("1,1,1,1,#,1") for _ in range(CALLERS)]
        assert all(len(log.recordings) == 1 for log in calls)
        within(
            RECOVERY_SECONDS,
            lambda: waiting_jobs(hotline, "twilio") == CALLERS,
            "every job waiting for Twilio",
        )
        time.sleep(5)
        assert_nothing_parked_and_nothing_erased_early(hotline)
        assert hotline.emulator.state.deleted_calls == []
        # When Twilio answers again
        hotline.emulator.state.faults["rest_down"] = 0
        healed(hotline, calls, "Twilio answering 503")
    assert_nothing_lost_and_nothing_left(hotline, calls)


def test_callers_report_through_the_static_fallback_while_the_whole_edge_is_stopped(
    hotline: Hotline, tmp_path: Path
) -> None:
    # Given the static fallback published to a folder a separate server serves (standing in
    # for the bucket in another region), and the number provisioned to fall back to it
    with StaticSite(tmp_path / "site") as site:
        hotline.env.update(
            IVR_FALLBACK_SITE=str(tmp_path / "site" / "fallback"),
            IVR_FALLBACK_URL=f"{site.url}/fallback",
        )
        hotline.emulator.state.add_number(HOTLINE_NUMBER)
        for command in (["twilio", "fallback", "publish"], ["twilio", "provision", HOTLINE_NUMBER]):
            done = ivr(command, hotline.env, hotline.folder)
            assert done.returncode == 0, done.stdout + done.stderr
        with hotline.serving():
            pass  # the edge ran, and is now stopped: nothing of ours answers
        # When callers call: three stay in English, two press 2 for Welsh
        calls = [hotline.call(",#") for _ in range(3)] + [hotline.call("2,#") for _ in range(2)]
    # Then each heard the 999 notice in their language and recorded, nothing is lost yet
    assert all(log.fallback and len(log.recordings) == 1 for log in calls)
    assert all("call 999" in log.text() for log in calls[:3])
    assert all("ffoniwch 999" in log.text() for log in calls[3:])
    assert hotline.emulator.state.deleted_recordings == []
    # When the edge is started again, every report is in the handlers' queue within a
    # minute, from the fallback, in the language the caller chose, and erased at Twilio
    with hotline.serving():
        healed(hotline, calls, "the whole edge stopped")
    assert_nothing_lost_and_nothing_left(hotline, calls)
    with hotline.db.reading() as session:
        reports = sorted(
            (r.source, r.language, r.category) for r in session.scalars(select(Report))
        )
    assert reports == sorted(
        [(ReportSource.FALLBACK, "en-GB", None)] * 3 + [(ReportSource.FALLBACK, "cy-GB", None)] * 2
    )
