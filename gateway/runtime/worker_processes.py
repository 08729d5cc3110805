"""process_* metrics of every worker of `serve --workers N`.

prometheus_client's multiprocess mode adds up the workers' own series, but
its ProcessCollector sees only the process serving /metrics. This collector
reads each live worker's /proc entry instead (the workers are the processes
with series files in the metrics directory) and labels the series with the
worker's pid: `sum without (pid) (process_resident_memory_bytes)` is the
group's memory.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator

from prometheus_client import Metric, ProcessCollector
from prometheus_client.registry import Collector

# The files prometheus_client writes per process: counter_123.db, gauge_livesum_123.db.
_PID = re.compile(r"_(\d+)\.db$")


class WorkerProcesses(Collector):
    def __init__(self, metrics_dir: str, proc: str = "/proc") -> None:
        self._dir = metrics_dir
        self._proc = proc

    def pids(self) -> list[int]:
        """The workers alive now: a dead worker's counter files stay (its
        counts stay summed), its process does not."""
        found = {int(m.group(1)) for name in os.listdir(self._dir)
                 if (m := _PID.search(name)) is not None}
        return sorted(pid for pid in found if os.path.exists(os.path.join(self._proc, str(pid))))

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for pid in self.pids():
            collector = ProcessCollector(pid=functools.partial(int, pid), proc=self._proc,
                                         registry=None)
            for family in collector.collect():
                merged = families.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type))
                for sample in family.samples:
                    merged.add_sample(sample.name, {**sample.labels, "pid": str(pid)},
                                      sample.value)
        yield from families.values()
