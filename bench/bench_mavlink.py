"""Benchmark: verified mission upload (upload + read-back + compare) over impaired links vs a clean link.

Baseline: the same 100-item mission uploaded to the simulated ArduPilot vehicle
over clean loopback UDP, measured in the same run. Each other row runs the same
upload through :class:`~pipeline.mavlink.lossy.LossyUdpProxy` (seeded loss,
duplication, reordering) or over TCP and prints the time ratio against the
baseline (> 1 is slower) and the items per second. Retry timeouts: 0.15 s client,
0.1 s vehicle re-request (a real link would use ~1 s on both, scaling the
lossy-row ratios up accordingly).

Run: ``.venv/bin/python bench/bench_mavlink.py [--items 100] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import socket
import statistics
import time

from pipeline.core.mission import Cmd, Frame, Mission, MissionItem
from pipeline.mavlink.client import GroundStation, upload_mission
from pipeline.mavlink.protocol import RetryPolicy
from pipeline.mavlink.vehicle import SimVehicle, VehicleConfig
from pipeline.mavlink.vehicle_mission import MissionServerConfig
from pipeline.testing.lossy import LinkImpairment, LossyUdpProxy

BASELINE = "clean loopback UDP, same mission, same simulated ArduPilot vehicle"
POLICY = RetryPolicy(timeout_s=0.15, retries=20, busy_retries=8, busy_delay_s=0.1)


def _port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mission(n: int) -> Mission:
    items = tuple(
        MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL_RELATIVE_ALT_INT), lat=33.21 + i * 1e-4, lon=133.13,
                    alt=40.0 + i * 0.01)
        for i in range(n)
    )
    return Mission(items=items)


def _config() -> VehicleConfig:
    return VehicleConfig(heartbeat_s=0.1, mission=MissionServerConfig(refuse_after_boot_s=0.0, rerequest_s=0.1))


def _run(mission: Mission, transport: str, impairment: LinkImpairment | None) -> float:
    if transport == "tcp":
        port = _port(socket.SOCK_STREAM)
        with SimVehicle(f"tcpin:127.0.0.1:{port}", _config()):
            return _timed(f"tcp:127.0.0.1:{port}", mission)
    port = _port(socket.SOCK_DGRAM)
    with SimVehicle(f"udpin:127.0.0.1:{port}", _config()):
        if impairment is None:
            return _timed(f"udpout:127.0.0.1:{port}", mission)
        with LossyUdpProxy(("127.0.0.1", port), impairment) as proxy:
            return _timed(f"udpout:127.0.0.1:{proxy.port}", mission)


def _timed(url: str, mission: Mission) -> float:
    with GroundStation(url, POLICY, connect_timeout_s=5) as gcs:
        gcs.connect()
        start = time.perf_counter()
        report = upload_mission(gcs, mission)
        elapsed = time.perf_counter() - start
    assert report.ok
    return elapsed


def main() -> None:
    """Measure every link kind and print ratios against the clean-UDP baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    mission = _mission(args.items)
    cases: list[tuple[str, str, LinkImpairment | None]] = [
        ("udp clean (baseline)", "udp", None),
        ("tcp clean", "tcp", None),
        ("udp 5% loss", "udp", LinkImpairment(loss=0.05, seed=1)),
        ("udp 20% loss+dup+reorder", "udp", LinkImpairment(loss=0.2, duplicate=0.15, reorder=0.15, seed=1)),
    ]
    print(f"baseline: {BASELINE}; {args.items} items, median of {args.repeats}")
    base = 0.0
    for name, transport, impairment in cases:
        times = [_run(mission, transport, impairment) for _ in range(args.repeats)]
        med = statistics.median(times)
        base = base or med
        print(f"{name:28s} {med:7.3f} s  {2 * args.items / med:8.1f} items/s (up+down)  ratio {med / base:6.2f}")


if __name__ == "__main__":
    main()
