"""Sharing the event loop: long GraphQL answers are built a piece at a time.

Turning a large result into objects is CPU work on the event loop, done by many resolver
tasks that become ready at once (one database round trip feeds them all). Left alone
they would run back to back in one turn of the loop and hold it for seconds, so
`/healthz` and every other request would wait. Resolvers that hand over many objects
call `pace()` first. While the resolvers of all requests have used less than `SLICE`
seconds since the loop was last free, it returns at once; after that, resolvers queue
and go on one per turn of the loop, in the order they came, with everything else that
is ready running in between, until the queue is empty.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque

SLICE = 0.01
"""Seconds resolvers may run back to back before they take turns with other tasks."""


class Turns:
    """The queue of resolvers waiting for their turn on one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.since = time.perf_counter()
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.scheduled = False

    async def pace(self) -> None:
        if not self.waiting and time.perf_counter() - self.since < SLICE:
            return
        turn = self.loop.create_future()
        self.waiting.append(turn)
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self._next)
        await turn

    def _next(self) -> None:
        """Let the first waiting resolver go on (in the loop's next turn), and come back
        in the turn after for the next one."""
        self.since = time.perf_counter()
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():  # a cancelled request's resolver is skipped
                turn.set_result(None)
                break
        self.scheduled = bool(self.waiting)
        if self.scheduled:
            self.loop.call_soon(self._next)


_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Turns] = weakref.WeakKeyDictionary()


async def pace() -> None:
    """Return at once while the loop's slice lasts; else wait for the loop's next turn."""
    loop = asyncio.get_running_loop()
    turns = _TURNS.get(loop)
    if turns is None:
        turns = _TURNS[loop] = Turns(loop)
    await turns.pace()
