"""WorkQueue over the JetStream work stream: extraction tasks for the workers' shared consumer."""

from __future__ import annotations

from nats.js import JetStreamContext

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.jobs import DOMAIN
from mivaa_platform.limits import check_bus_record
from mivaa_platform.messaging import WORK_SUBJECT_EXTRACT
from mivaa_platform.telemetry import inject_trace_headers


class NatsWorkQueue:
    def __init__(self, js: JetStreamContext):
        self._js = js

    async def submit(self, task: job_pb2.ExtractTask, *, run: int = 0) -> None:
        payload = task.SerializeToString()
        check_bus_record(len(payload), what="work item", domain=DOMAIN)
        # Nats-Msg-Id makes a repeated publish of the same job a no-op on the server; an admin's
        # retry (run > 0) is new work for the same job, so its id says which run it is.
        headers = inject_trace_headers({"Nats-Msg-Id": f"{task.job}#run-{run}" if run else task.job})
        await self._js.publish(WORK_SUBJECT_EXTRACT, payload, headers=headers)
