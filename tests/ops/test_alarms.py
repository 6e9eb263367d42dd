"""The gauges alarms read: what an on-call engineer is woken for, sent to CloudWatch.

CloudWatch here is moto's server over real HTTP; the values are read back with CloudWatch's
own API, as the alarms in infra/alarms.yaml would read them.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import boto3
from sqlalchemy import update

from ivr.config import Config
from ivr.dev.phone import EmulatorMedia, RecordingKind
from ivr.dev.twilio_emulator import RunningEmulator
from ivr.models.calls import JobState, RecordingJob
from ivr.ops.alarms import GAUGES, AlarmGauges, send_forever
from ivr.outside.cloud_metrics import CloudWatchMetrics, HeldMetrics, MetricsUnavailable
from ivr.platform.db import Database
from ivr.services import Services, twilio_api
from ivr.worker.reconcile import reconcile
from ivr.worker.runner import build_worker
from tests.conftest import SAMPLES, EmulatorCaller
from tests.worker.conftest import settle

NAMESPACE = "IVR/test"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_what_waits_at_twilio_is_aged_and_cleared_once_erased(
    emulator_caller: EmulatorCaller, ingest_config: Config, db: Database
) -> None:
    # Given a call just ended whose recording the worker has not fetched yet
    emulator_caller.call("9,1,2,1,#,1")
    clock = Clock()
    gauges = AlarmGauges(db, clock)
    assert gauges.measure()["OldestWaitingAtTwilioSeconds"] == 0
    # When six and a half minutes pass without the worker erasing it at Twilio
    clock.now += 390
    # Then the age says so (the alarm fires past 4 minutes: a minute of readings apart)
    assert gauges.measure()["OldestWaitingAtTwilioSeconds"] == 390
    # When the worker stores it and erases the recording and the call log
    settle(build_worker(Services(ingest_config, db=db)), db)
    clock.now += 60
    # Then nothing waits any more
    assert gauges.measure()["OldestWaitingAtTwilioSeconds"] == 0


def test_a_parked_job_and_the_fallbacks_reports_are_counted(
    emulator_caller: EmulatorCaller,
    emulator: RunningEmulator,
    ingest_config: Config,
    db: Database,
) -> None:
    gauges = AlarmGauges(db, Clock())
    first = gauges.measure()
    assert (first["ParkedJobs"], first["FallbackReports"]) == (0, 0)
    # Given a recording job parked for a person, and the static fallback took two calls
    emulator_caller.call("9,1,2,1,#,1")
    with db.transaction() as session:
        session.execute(update(RecordingJob).values(state=JobState.FAILED))
    media = EmulatorMedia(emulator.url)
    speech = (SAMPLES / "report-en.wav").read_bytes()
    for call in ("CA" + "a" * 32, "CA" + "b" * 32):
        media.store(call, speech, RecordingKind("StartCallRecordingTwiML", 1))
    reconcile(db, twilio_api(ingest_config), ingest_config.secret_key, timedelta(minutes=10))
    # Then the next reading counts the parked job and the fallback's two new reports
    reading = gauges.measure()
    assert reading["ParkedJobs"] == 1 and reading["FallbackReports"] == 2
    # And the one after counts only reports the fallback took since
    assert gauges.measure()["FallbackReports"] == 0


def test_readings_reach_cloudwatch_under_fixed_names_only(aws_endpoint: str, db: Database) -> None:
    client = boto3.client("cloudwatch", endpoint_url=aws_endpoint, region_name="eu-west-2")
    sink = CloudWatchMetrics(client, NAMESPACE)
    reading = AlarmGauges(db, Clock()).measure()
    sink.put(reading)
    listed = client.list_metrics(Namespace=NAMESPACE)["Metrics"]
    # Every gauge arrives, and none carries a dimension that could name a report or a call
    assert {metric["MetricName"] for metric in listed} == set(reading) == set(GAUGES)
    assert all(metric.get("Dimensions", []) == [] for metric in listed)
    now = datetime.now(UTC)
    stats = client.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="ParkedJobs",
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert [point["Maximum"] for point in stats] == [0.0]


def test_without_a_namespace_readings_stay_in_memory(ingest_config: Config, db: Database) -> None:
    config = dataclasses.replace(ingest_config, cloudwatch_namespace="")
    sink = Services(config, db=db).alarm_metrics
    assert isinstance(sink, HeldMetrics)
    reading = AlarmGauges(db, Clock()).measure()
    sink.put(reading)
    assert sink.latest == reading


def test_cloudwatch_refusing_a_reading_does_not_stop_the_next(db: Database) -> None:
    stop = threading.Event()

    class FlakySink:
        def __init__(self) -> None:
            self.calls, self.taken = 0, []  # type: int, list[dict[str, float]]

        def put(self, values: Mapping[str, float]) -> None:
            self.calls += 1
            if self.calls == 1:
                raise MetricsUnavailable("ThrottlingException")
            self.taken.append(dict(values))
            stop.set()

    sink = FlakySink()
    send_forever(AlarmGauges(db, Clock()), sink, stop, every=0.0)
    assert sink.calls == 2 and len(sink.taken) == 1


def test_the_daily_audit_check_reports_a_broken_chain(config: Config, db: Database) -> None:
    from ivr.models.audit import AuditEvent
    from ivr.ops.alarms import AUDIT_GAUGE, verify_daily
    from ivr.staff import audit

    trail = Services(config, db=db).audit_trail
    with db.transaction() as session:
        audit.record(session, "alex", "view", "R-AAAA-0001")
    stop = threading.Event()

    class OneCheck(HeldMetrics):
        def put(self, values: Mapping[str, float]) -> None:
            super().put(values)
            stop.set()  # one day's check is enough here

    sink = OneCheck()

    def check_once() -> float:
        stop.clear()
        verify_daily(trail, sink, stop, every=3600)
        return sink.latest[AUDIT_GAUGE]

    # Given an intact chain, the daily check says so
    assert check_once() == 0.0
    # Given someone changed a sealed event in the database
    with db.transaction() as session:
        session.execute(update(AuditEvent).values(detail="nothing to see"))
    # Then the next check raises the alarm's gauge
    assert check_once() == 1.0
