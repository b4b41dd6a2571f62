"""A lossy UDP link for tests and demos: a proxy that drops, duplicates and reorders datagrams (seeded).

    client (udpout:127.0.0.1:<proxy.port>)  <->  LossyUdpProxy  <->  vehicle (udpin:127.0.0.1:<vehicle port>)

Each datagram (one MAVLink packet) in either direction is independently dropped
with probability ``loss``, otherwise sent once more with probability
``duplicate`` and held back by ``reorder_delay_s`` with probability ``reorder``
(so later packets overtake it). The same seed gives the same decisions for the
same packet sequence.
"""

from __future__ import annotations

import heapq
import random
import select
import socket
import threading
import time
from dataclasses import dataclass

from pipeline.errors import InputError


@dataclass(frozen=True)
class LinkImpairment:
    """Per-datagram fault probabilities (0..1) and the reorder hold time (s)."""

    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    reorder_delay_s: float = 0.05
    seed: int = 0

    def problems(self) -> list[str]:
        """Every out-of-range field (empty when valid)."""
        return [
            f"{name}={value} is not a probability in [0, 1]"
            for name, value in (("loss", self.loss), ("duplicate", self.duplicate), ("reorder", self.reorder))
            if not 0.0 <= value <= 1.0
        ]


class LossyUdpProxy:
    """Forward datagrams between one client and ``vehicle_addr`` through :class:`LinkImpairment`."""

    def __init__(self, vehicle_addr: tuple[str, int], impairment: LinkImpairment, host: str = "127.0.0.1") -> None:
        problems = impairment.problems()
        if problems:
            raise InputError("bad link impairment: " + "; ".join(problems))
        self.vehicle_addr = vehicle_addr
        self.impairment = impairment
        self.rng = random.Random(impairment.seed)
        self.client_side = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.client_side.bind((host, 0))
        self.vehicle_side = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.vehicle_side.bind((host, 0))
        self.client_addr: tuple[str, int] | None = None
        self.queue: list[tuple[float, int, int, bytes]] = []  # (release time, order, direction, data)
        self.counter = 0
        self.stats = {"forwarded": 0, "dropped": 0, "duplicated": 0, "reordered": 0}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the client should send to (``udpout:127.0.0.1:<port>``)."""
        return int(self.client_side.getsockname()[1])

    def __enter__(self) -> LossyUdpProxy:
        self._thread = threading.Thread(target=self._run, name="lossy-udp-proxy", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.client_side.close()
        self.vehicle_side.close()

    def _schedule(self, direction: int, data: bytes, now: float) -> None:
        imp = self.impairment
        if self.rng.random() < imp.loss:
            self.stats["dropped"] += 1
            return
        copies = 2 if self.rng.random() < imp.duplicate else 1
        self.stats["duplicated"] += copies - 1
        for _ in range(copies):
            delay = 0.0
            if self.rng.random() < imp.reorder:
                delay = imp.reorder_delay_s
                self.stats["reordered"] += 1
            self.counter += 1
            heapq.heappush(self.queue, (now + delay, self.counter, direction, data))

    def _flush(self, now: float) -> None:
        while self.queue and self.queue[0][0] <= now:
            _, _, direction, data = heapq.heappop(self.queue)
            try:
                if direction == 0:
                    self.vehicle_side.sendto(data, self.vehicle_addr)
                elif self.client_addr is not None:
                    self.client_side.sendto(data, self.client_addr)
                self.stats["forwarded"] += 1
            except OSError:
                pass  # the peer went away; a real radio would lose the packet too

    def _run(self) -> None:
        sockets = [self.client_side, self.vehicle_side]
        while not self._stop.is_set():
            wait = 0.02 if not self.queue else max(0.0, min(0.02, self.queue[0][0] - time.monotonic()))
            readable, _, _ = select.select(sockets, [], [], wait)
            now = time.monotonic()
            for sock in readable:
                try:
                    data, addr = sock.recvfrom(65535)
                except OSError:
                    continue
                if sock is self.client_side:
                    self.client_addr = addr
                    self._schedule(0, data, now)
                else:
                    self._schedule(1, data, now)
            self._flush(now)
