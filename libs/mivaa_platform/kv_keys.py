"""The live keys of a JetStream KV bucket, read so that none is missed.

Not nats-py's kv.keys() (nor anything built on its watcher): the watcher decides "no more
keys" from the consumer's pending count while the first keys may still be on their way to
the client (nats-io/nats.py#842), so under load it returned an empty or partial list for a
full bucket.
"""

from __future__ import annotations

from nats.js import JetStreamContext, api

_KEY_READ_BATCH = 1000


async def live_keys(js: JetStreamContext, subject_filter: str, *, bucket: str) -> list[str]:
    """Every live key of KV bucket `bucket` under `subject_filter` (`$KV.<bucket>.` and a key pattern),
    read from the bucket's stream by a pull consumer of its own. A pull consumer receives nothing
    before it asks, so its pending count is exact and every key is read. Headers only: no record
    is transferred, and the server walks only the subjects under the filter.
    """
    subscription = await js.pull_subscribe(
        subject_filter,
        stream=f"KV_{bucket}",
        config=api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.LAST_PER_SUBJECT,
            ack_policy=api.AckPolicy.NONE,
            headers_only=True,
            mem_storage=True,
            inactive_threshold=30.0,
        ),
    )
    live: set[str] = set()
    try:
        remaining = (await subscription.consumer_info()).num_pending or 0
        while remaining > 0:
            for message in await subscription.fetch(min(remaining, _KEY_READ_BATCH), timeout=5):
                remaining = message.metadata.num_pending
                operation = (message.headers or {}).get("KV-Operation")
                if operation not in ("DEL", "PURGE"):
                    live.add(message.subject.removeprefix(f"$KV.{bucket}."))
    finally:
        await subscription.unsubscribe()
    return list(live)
