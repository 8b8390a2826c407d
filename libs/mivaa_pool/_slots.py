"""The pool's slots and the callers that wait for one.

A caller that finds no free slot waits in a queue, and a released slot is
handed straight to a waiter, so no newcomer can overtake one: FIFO per
fairness key (say a tenant), a key that holds no slot before one that does,
else round-robin across keys, so one key's long queue of tasks cannot hold
another key's back.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, OrderedDict, deque
from collections.abc import Hashable

from mivaa_pool._errors import PoolClosed
from mivaa_pool._task import _reject, _Slot, _State


class _SlotQueue:
    def __init__(self, count: int) -> None:
        self.closed = False
        self.reset(count)

    def reset(self, count: int) -> None:
        """Fresh slots and no waiters (a new event loop: nothing of the old one is valid)."""
        self.slots = [_Slot(index) for index in range(count)]
        self._free: list[_Slot] = list(self.slots)
        # Callers waiting for a slot, FIFO per fairness key; keys are served round-robin.
        self._waiters: OrderedDict[Hashable, deque[asyncio.Future[_Slot]]] = OrderedDict()
        self._held: Counter[Hashable] = Counter()  # by fair_key

    async def acquire(self, fair_key: Hashable, loop: asyncio.AbstractEventLoop) -> _Slot:
        self._drop_gone_waiters()
        if self._free and not self._waiters:
            return self._hold(self._take_free(), fair_key)
        waiter: asyncio.Future[_Slot] = loop.create_future()
        self._waiters.setdefault(fair_key, deque()).append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release(waiter.result())  # handed over just as we were cancelled: pass it on
            raise

    def starved(self, fair_key: Hashable) -> bool:
        """Whether a caller of another fair_key waits for a slot while that key holds none."""
        self._drop_gone_waiters()
        return any(key != fair_key and not self._held[key] for key in self._waiters)

    def release(self, slot: _Slot) -> None:
        if self._held[slot.holder] > 0:
            self._held[slot.holder] -= 1
        if not self._held[slot.holder]:
            del self._held[slot.holder]
        if self.closed:
            return
        while self._waiters:
            # A key that holds no slot first, else the one served least recently; then its longest waiter.
            key = next((key for key in self._waiters if not self._held[key]), None)
            if key is None:
                key = next(iter(self._waiters))
            waiters = self._waiters[key]
            waiter = waiters.popleft()
            if waiters:
                self._waiters.move_to_end(key)
            else:
                del self._waiters[key]
            if not waiter.done():
                waiter.set_result(self._hold(slot, key))  # straight to a waiter: no overtaking by a newcomer
                return
        self._free.append(slot)

    def close(self) -> None:
        """Every waiter gets PoolClosed; released slots are not handed out again."""
        self.closed = True
        for waiter in itertools.chain.from_iterable(self._waiters.values()):
            _reject(waiter, PoolClosed())
        self._waiters.clear()
        self._free.clear()

    def _take_free(self) -> _Slot:
        # Prefer a slot whose worker is up, then one whose worker is starting, over starting a new one.
        rank = {_State.IDLE: 0, _State.STARTING: 1}
        best = min(self._free, key=lambda slot: rank.get(slot.worker.state, 2) if slot.worker else 2)
        self._free.remove(best)
        return best

    def _hold(self, slot: _Slot, fair_key: Hashable) -> _Slot:
        slot.holder = fair_key
        self._held[fair_key] += 1
        return slot

    def _drop_gone_waiters(self) -> None:
        """Forgets waiters that were cancelled, so an empty queue means nobody waits."""
        for key in list(self._waiters):
            waiters = self._waiters[key]
            while waiters and waiters[0].done():
                waiters.popleft()
            if not waiters:
                del self._waiters[key]
