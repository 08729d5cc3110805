"""AdminService.VerifyStores: the request as the verifier's arguments, its
report as the response."""

from __future__ import annotations

from datagw.v1 import admin_pb2

from gateway.api.convert import duration
from gateway.records.verify import ERROR, INFO, WARNING, Finding, VerifyReport

_SEVERITIES = {ERROR: admin_pb2.VERIFY_SEVERITY_ERROR, WARNING: admin_pb2.VERIFY_SEVERITY_WARNING,
               INFO: admin_pb2.VERIFY_SEVERITY_INFO}


def verify_args(request: admin_pb2.VerifyStoresRequest, default_sample: float
                ) -> tuple[float | None, set[str]]:
    """(sample fraction or None for exhaustive, the checks; empty: all)."""
    sample = None if request.exhaustive else (request.sample or default_sample)
    return sample, set(request.checks)


def finding_out(f: Finding) -> admin_pb2.VerifyFinding:
    out = admin_pb2.VerifyFinding(
        check=f.check, kind=f.kind, severity=_SEVERITIES[f.severity], keyspace=f.keyspace,
        table=f.table, key=f.key, expected=f.expected, found=f.found, detail=f.detail)
    if f.shard is not None:
        out.shard = f.shard
    return out


def report_out(report: VerifyReport) -> admin_pb2.VerifyStoresResponse:
    return admin_pb2.VerifyStoresResponse(
        findings=[finding_out(f) for f in report.findings],
        checks=[admin_pb2.VerifyCheck(name=r.check, counts=r.counts, errors=r.errors,
                                      findings=len(r.findings)) for r in report.results],
        clean=report.clean, duration=duration(report.duration_s),
        sample=1.0 if report.sample is None else report.sample)
