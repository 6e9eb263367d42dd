"""What the CloudFormation templates in infra/ promise, read from the templates themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

INFRA = REPO / "infra"


class CloudFormationLoader(yaml.SafeLoader):
    """YAML that keeps CloudFormation's short forms (``!Ref X``) as ``{"Ref": X}``."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def template(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load((INFRA / name).read_text(), CloudFormationLoader)  # noqa: S506 - a SafeLoader
    return loaded


def refs(value: Any) -> set[str]:
    """Every resource named by a ``Ref`` anywhere inside ``value``."""
    if isinstance(value, dict):
        return {value["Ref"]} if set(value) == {"Ref"} else set().union(*map(refs, value.values()))
    if isinstance(value, list):
        return set().union(*map(refs, value))
    return set()


def public_load_balancer_subnets() -> set[str]:
    """The subnets of the internet-facing load balancer, followed from services to network."""
    services, network = template("services.yaml"), template("network.yaml")
    (balancer,) = [
        resource
        for resource in services["Resources"].values()
        if resource["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer"
        and resource["Properties"].get("Scheme") == "internet-facing"
    ]
    imported = balancer["Properties"]["Subnets"]["Fn::Split"][1]["Fn::ImportValue"]["Fn::Sub"]
    (output,) = [
        output
        for output in network["Outputs"].values()
        if output.get("Export", {}).get("Name") == {"Fn::Sub": imported}
    ]
    subnets = refs(output["Value"])
    assert subnets and all(
        network["Resources"][name]["Type"] == "AWS::EC2::Subnet" for name in subnets
    )
    return subnets


def flow_logs() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(INFRA.glob("*.yaml")):
        for name, resource in template(path.name).get("Resources", {}).items():
            if resource["Type"] == "AWS::EC2::FlowLog":
                found.append((f"{path.name}:{name}", resource["Properties"]))
    return found


def test_no_flow_log_covers_the_vpc_or_the_public_load_balancers_subnets() -> None:
    public = public_load_balancer_subnets()
    assert public == {"PublicSubnetA", "PublicSubnetB"}
    logs = flow_logs()
    assert logs, "the private subnets keep a log of refused traffic"
    for where, properties in logs:
        # A VPC-wide log would take in the balancer's subnets: an online sender's address.
        assert properties["ResourceType"] == "Subnet", where
        assert not refs(properties["ResourceId"]) & public, where


def test_flow_logs_record_refused_traffic_only() -> None:
    # Accepted flows carry a report's size and minute (an upload, a recording's download).
    for where, properties in flow_logs():
        assert properties["TrafficType"] == "REJECT", where


def test_the_loader_reads_every_template() -> None:
    for path in INFRA.glob("*.yaml"):
        assert "Resources" in template(Path(path).name)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return actions if isinstance(actions, list) else [actions]


def _puts_objects(statement: dict[str, Any]) -> bool:
    return any(action in {"s3:PutObject", "s3:Put*", "s3:*", "*"} for action in _actions(statement))


# A write that completes an object only with If-None-Match; starting an upload and sending
# its parts (which S3 lets carry no condition, and which replace nothing) as they are.
CREATE_ONLY = (
    {"Null": {"s3:if-none-match": "false"}},
    {"Bool": {"s3:ObjectCreationOperation": "false"}},
)


def test_the_edge_may_create_objects_but_never_write_over_one() -> None:
    resources = template("data.yaml")["Resources"]
    edge = {"EdgeWebTaskRole", "EdgeWorkerTaskRole"}
    granted = []
    for name, resource in resources.items():
        documents = []
        if resource["Type"] == "AWS::IAM::Policy" and refs(resource["Properties"]["Roles"]) & edge:
            documents.append(resource["Properties"]["PolicyDocument"])
        if name in edge:
            assert not resource["Properties"].get("ManagedPolicyArns"), name
            documents += [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]
        for document in documents:
            for statement in _statements(document):
                if statement["Effect"] == "Allow" and _puts_objects(statement):
                    assert statement.get("Condition") in CREATE_ONLY, name
                    granted.append(statement["Condition"])
    assert all(condition in granted for condition in CREATE_ONLY)


def test_the_recordings_bucket_refuses_any_write_over_an_object() -> None:
    policy = template("data.yaml")["Resources"]["RecordingsBucketPolicy"]["Properties"]
    refusals = [
        statement
        for statement in _statements(policy["PolicyDocument"])
        if statement["Effect"] == "Deny" and statement["Principal"] == "*"
    ]
    assert {
        "Null": {"s3:if-none-match": "true"},
        "Bool": {"s3:ObjectCreationOperation": "true"},
    } in [statement.get("Condition") for statement in refusals if _puts_objects(statement)]


def test_the_fallback_bucket_serves_only_its_documents_over_https_and_logs_no_request() -> None:
    fallback = template("fallback.yaml")
    resources = fallback["Resources"]
    # Twilio's GETs carry the caller's number in their query: nothing may write them down.
    assert "LoggingConfiguration" not in resources["FallbackBucket"]["Properties"]
    assert not [r for r in resources.values() if r["Type"] == "AWS::CloudTrail::Trail"]
    statements = resources["FallbackBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (public,) = [s for s in statements if s["Effect"] == "Allow"]
    assert public["Action"] == "s3:GetObject"
    assert public["Resource"] == {"Fn::Sub": "${FallbackBucket.Arn}/fallback/*"}
    assert public["Condition"] == {"Bool": {"aws:SecureTransport": "true"}}
    # It depends on no other stack of ours: it must stand when they are gone.
    assert "Fn::ImportValue" not in str(fallback)


def test_every_alarm_reaches_the_on_call_topic_and_has_its_runbook_entry() -> None:
    alarms = template("alarms.yaml")["Resources"]
    readme = (REPO / "README.md").read_text()
    runbook = readme.split("### Alarms", 1)[1].split("\n## ", 1)[0]
    found = {
        name: r["Properties"] for name, r in alarms.items() if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    wanted = {
        "Parked job",
        "Held at Twilio",
        "Fallback answering",
        "Service down",
        "Emails pending",
        "Edge 5xx",
        "Console 5xx",
        "Spool growing",
        "Database storage",
        "Database connections",
    }
    titles = set()
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        title = alarm["AlarmDescription"].split('alarm "', 1)[1].rstrip('".')
        titles.add(title)
        # Each alarm's runbook entry says what it means, what to check and what to do.
        entry = runbook.split(f"**{title}**", 1)
        assert len(entry) == 2, f"README has no runbook entry for {title!r}"
        assert (
            "*Check*" in entry[1].split("\n- **", 1)[0] and "*Do*" in entry[1].split("\n- **", 1)[0]
        )
    assert wanted <= titles
    topic = alarms["AlarmTopic"]["Properties"]
    assert topic["Subscription"] == [{"Protocol": "email", "Endpoint": {"Ref": "OnCallEmail"}}]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}


def test_the_hotlines_gauges_are_the_ones_the_worker_sends() -> None:
    from ivr.ops.alarms import AUDIT_GAUGE, GAUGES

    alarms = template("alarms.yaml")["Resources"].values()
    ours = {
        a["Properties"]["MetricName"]
        for a in alarms
        if "IVR/" in str(a["Properties"].get("Namespace", ""))
    }
    assert ours <= {*GAUGES, AUDIT_GAUGE}
    # The worker alone may send them, and only under the hotline's namespace.
    policy = template("data.yaml")["Resources"]["EdgeWorkerAlarmGaugesPolicy"]["Properties"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "cloudwatch:PutMetricData"
    assert statement["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": {"Fn::Sub": "IVR/${EnvironmentName}"}}
    }
