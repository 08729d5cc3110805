"""`datagw verify`: a running gateway's cross-store consistency report
(AdminService.VerifyStores), printed for a person or as JSON.

Exit status: 0 clean, 1 findings (errors or warnings), 2 usage, 3 a check
could not run everywhere or the gateway refused or failed the call.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

import grpc
from datagw.v1 import admin_pb2, admin_pb2_grpc

from gateway.records.verify import CHECKS
from gateway.runtime.admin_client import as_json, channel, connection_args, describe_error

CLEAN, FINDINGS, UNCHECKED = 0, 1, 3
# An exhaustive run reads every event and key: give it time.
CALL_TIMEOUT_S = 3600.0
_INFO = admin_pb2.VERIFY_SEVERITY_INFO
_SEVERITY = {admin_pb2.VERIFY_SEVERITY_ERROR: "ERROR", admin_pb2.VERIFY_SEVERITY_WARNING: "WARN",
             _INFO: "info"}


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction above 0, at most 1")
    return value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify = sub.add_parser(
        "verify", help="a cross-store consistency report of a running gateway",
        description="Compare every store with the ones it derives from (docs/operations.md, "
                    "Verifying the stores). Exit status: 0 clean, 1 findings (errors or "
                    "warnings), 2 usage, 3 a check could not run everywhere or the call failed.")
    connection_args(verify)
    how = verify.add_mutually_exclusive_group()
    how.add_argument("--exhaustive", action="store_true",
                     help="compare every key and the whole cursor range")
    how.add_argument("--sample", type=_fraction, default=0.0, metavar="F",
                     help="the fraction of keys and ranges to compare (default: the gateway's "
                          "verify.sample)")
    verify.add_argument("--check", action="append", choices=CHECKS, default=[], dest="checks",
                        help="run this check (repeatable; default all)")
    verify.add_argument("--json", action="store_true",
                        help="print the response as JSON (proto field names)")


def run(args: argparse.Namespace) -> int:
    request = admin_pb2.VerifyStoresRequest(checks=args.checks, sample=args.sample,
                                            exhaustive=args.exhaustive)
    with channel(args) as open_channel:
        try:
            report = admin_pb2_grpc.AdminServiceStub(open_channel).VerifyStores(
                request, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as err:
            print(describe_error(err, "verify"), file=sys.stderr)
            return UNCHECKED
    print(as_json(report) if args.json else format_report(report))
    return status(report)


def status(report: admin_pb2.VerifyStoresResponse) -> int:
    if any(f.severity != _INFO for f in report.findings):
        return FINDINGS
    return UNCHECKED if any(c.errors for c in report.checks) else CLEAN


def format_report(report: admin_pb2.VerifyStoresResponse) -> str:
    """Per check what was compared and what could not be, then each finding."""
    took = report.duration.ToTimedelta().total_seconds()
    how = "exhaustive" if report.sample >= 1.0 else f"sample {report.sample:g}"
    lines = [f"{'clean' if report.clean else 'NOT CLEAN'} ({how}, {took:.3g}s)"]
    by_check = Counter(f.check for f in report.findings if f.severity != _INFO)
    for c in report.checks:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(c.counts.items())) or "nothing"
        lines.append(f"{c.name:<20} {by_check[c.name]} finding(s); compared: {counts}")
        lines += [f"  cannot check: {e}" for e in c.errors]
    for f in report.findings:
        where = f"{f.keyspace}" + (f" shard {f.shard}" if f.HasField("shard") else "")
        lines.append(f"{_SEVERITY.get(f.severity, '?'):<5} {f.check}/{f.kind} {where} "
                     f"{f.table} {f.key}")
        lines.append(f"      expected: {f.expected}")
        lines.append(f"      found:    {f.found}")
        if f.detail:
            lines.append(f"      {f.detail}")
    return "\n".join(lines)
