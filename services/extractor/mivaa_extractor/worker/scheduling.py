"""Which waiting extraction task a worker starts next: tenants in turn, never one hogging the slots.

Pure bookkeeping (no NATS, no asyncio), so the fairness rules are tested on
their own. A worker has `slots` tasks running at most. A tenant may run at
most `per_tenant` of them (default: all but one slot, so a newly arriving
tenant always finds one it can have once a task ends; with the default two
slots that is one task per tenant). Among tenants with a task waiting and
room to start it, the one served least recently goes first; each tenant's
own tasks start in the order they arrived.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    def __init__(self, slots: int, per_tenant: int | None = None):
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.slots = slots
        self.per_tenant = per_tenant if per_tenant is not None else max(1, slots - 1)
        if self.per_tenant < 1:
            raise ValueError("per_tenant must be at least 1")
        # Waiting tasks by tenant; the order of the keys is the service order (least recently served first).
        self._waiting: OrderedDict[str, deque[T]] = OrderedDict()
        self._running: Counter[str] = Counter()

    def add(self, tenant: str, item: T) -> None:
        self._waiting.setdefault(tenant, deque()).append(item)

    def take(self) -> tuple[str, T] | None:
        """The next task to start (now counted as running), or None when no slot or no eligible task."""
        if self.running_count >= self.slots:
            return None
        for tenant, items in self._waiting.items():
            if self._running[tenant] < self.per_tenant:
                item = items.popleft()
                # Served now: to the back of the line, or out of it when nothing of it waits.
                if items:
                    self._waiting.move_to_end(tenant)
                else:
                    del self._waiting[tenant]
                self._running[tenant] += 1
                return tenant, item
        return None

    def done(self, tenant: str) -> None:
        """A task of `tenant` that take() returned has ended; its slot is free."""
        self._running[tenant] -= 1
        if self._running[tenant] <= 0:
            del self._running[tenant]

    def remove(self, tenant: str, item: T) -> bool:
        """Takes a waiting task out without starting it; False when it is not waiting."""
        items = self._waiting.get(tenant)
        if not items or item not in items:
            return False
        items.remove(item)
        if not items:
            del self._waiting[tenant]
        return True

    def waiting(self) -> Iterator[T]:
        for items in self._waiting.values():
            yield from items

    @property
    def waiting_count(self) -> int:
        return sum(len(items) for items in self._waiting.values())

    @property
    def running_count(self) -> int:
        return sum(self._running.values())

    def needs_work(self) -> bool:
        """A slot is free but no waiting task may take it: worth fetching another task."""
        return self.running_count < self.slots and all(
            self._running[tenant] >= self.per_tenant for tenant in self._waiting
        )
