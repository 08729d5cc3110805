"""`datagw verify`: its arguments, what it prints and its exit status (the
call itself is tests/integration/test_verify.py's and tests/e2e's)."""

from __future__ import annotations

import argparse

import pytest
from datagw.v1 import admin_pb2 as pb
from google.protobuf.duration_pb2 import Duration

from gateway.runtime import verify_cli
from gateway.runtime.cli import _parser


def parse(*argv: str) -> argparse.Namespace:
    return _parser().parse_args(["verify", *argv])


def test_defaults_sample_every_check() -> None:
    args = parse()
    assert (args.exhaustive, args.sample, args.checks, args.json) == (False, 0.0, [], False)
    assert args.target == "127.0.0.1:50051"


def test_checks_repeat_and_sample_is_a_fraction() -> None:
    args = parse("--check", "inventory", "--check", "projections", "--sample", "0.25")
    assert (args.checks, args.sample) == (["inventory", "projections"], 0.25)


@pytest.mark.parametrize("argv", [["--sample", "0"], ["--sample", "1.5"], ["--sample", "x"],
                                  ["--check", "nope"], ["--exhaustive", "--sample", "0.5"]])
def test_bad_arguments_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(*argv)
    assert exit_.value.code == 2


def _report(*findings: pb.VerifyFinding, errors: tuple[str, ...] = ()) -> pb.VerifyStoresResponse:
    clean = not errors and all(f.severity == pb.VERIFY_SEVERITY_INFO for f in findings)
    return pb.VerifyStoresResponse(
        findings=list(findings), clean=clean, sample=0.05,
        duration=Duration(seconds=2),
        checks=[pb.VerifyCheck(name="inventory", counts={"skus": 3}, errors=list(errors),
                               findings=len(findings))])


LEAK = pb.VerifyFinding(check="inventory", kind="leaked_reservation",
                        severity=pb.VERIFY_SEVERITY_ERROR, keyspace="inventory", shard=0,
                        table="reservations", key="reservation r-1", expected="released",
                        found="held", detail="settle it")


def test_exit_status_says_clean_findings_or_unchecked() -> None:
    assert verify_cli.status(_report()) == 0
    info = pb.VerifyFinding(check="inventory", kind="k", severity=pb.VERIFY_SEVERITY_INFO)
    assert verify_cli.status(_report(info)) == 0
    assert verify_cli.status(_report(LEAK)) == 1
    assert verify_cli.status(_report(LEAK, errors=("shard 1 down",))) == 1
    assert verify_cli.status(_report(errors=("shard 1 down",))) == 3


def test_the_report_reads_per_check_then_per_finding() -> None:
    text = verify_cli.format_report(_report(LEAK, errors=("commerce shard 1: down",)))
    assert text.splitlines() == [
        "NOT CLEAN (sample 0.05, 2s)",
        "inventory            1 finding(s); compared: skus 3",
        "  cannot check: commerce shard 1: down",
        "ERROR inventory/leaked_reservation inventory shard 0 reservations reservation r-1",
        "      expected: released",
        "      found:    held",
        "      settle it",
    ]
