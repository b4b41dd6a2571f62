"""ArduCopter software-in-the-loop (a real ArduPilot build) as a test peer: start, configure, stop.

The binary is ``../shared/peers/ardupilot-sitl/arducopter`` (see ``../shared/README.md``).
Each :class:`SitlCopter` runs from its own writable run folder (``eeprom.bin`` and logs
go there) on a free instance ``-I N``: MAVLink 2 on TCP 127.0.0.1 port ``5760 + 10·N``
(SERIAL0; the simulation only runs once a client is connected) and ``5762/5763 + 10·N``.
Only the process started here is stopped, by its pid.

Camera feedback: ``CAM1_TYPE`` given only in a defaults file is reset at boot by
ArduPilot's camera-parameter conversion, so :func:`prepared_run_dir` boots once with
``-w``, sets ``CAM1_TYPE=1`` and ``CAM1_FEEDBAK_PIN=-1`` with PARAM_SET (kept in
``eeprom.bin``) and stops; later boots from a copy of that folder have the camera.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymavlink.dialects.v20 import ardupilotmega as mav2

from pipeline.mavlink.client import GroundStation
from pipeline.mavlink.protocol import RetryPolicy

SPEEDUP = 10
#: SITL home for the tests: near Shimanto, ground 230 m AMSL (lat, lon, alt, heading).
SITL_HOME = (33.2101, 133.1353, 230.0, 0.0)
CAMERA_PARAMS = {"CAM1_TYPE": 1.0, "CAM1_FEEDBAK_PIN": -1.0}


def unusable_reason(binary: Path) -> str | None:
    """Why the SITL binary cannot run here, or None when it can."""
    if not binary.is_file():
        return f"ArduCopter SITL binary not found at {binary}"
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return f"ArduCopter SITL is a Linux x86-64 build; this is {platform.system()} {platform.machine()}"
    if not os.access(binary, os.X_OK):
        return f"ArduCopter SITL binary {binary} is not executable"
    return None


def _tcp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_instance(first: int = 1, last: int = 60) -> int:
    """An instance number whose TCP ports 5760/5762/5763 + 10·N and UDP sim ports are all free now."""
    for n in range(first, last + 1):
        base = 5760 + 10 * n
        if all(_tcp_free(base + k) for k in (0, 2, 3)) and all(_udp_free(p + 10 * n) for p in (5501, 5502, 9005)):
            return n
    raise RuntimeError(f"no free SITL instance between {first} and {last}")


@dataclass
class SitlCopter:
    """One ArduCopter SITL process started from ``run_dir``.

    Attributes:
        binary: The ``arducopter`` executable.
        defaults: Parameter defaults files (ArduPilot's ``copter.parm`` and the camera file).
        run_dir: Writable folder the process runs in.
        home: ``(lat, lon, alt_amsl_m, heading_deg)``.
        speedup: Simulated seconds per real second.
    """

    binary: Path
    defaults: tuple[Path, ...]
    run_dir: Path
    home: tuple[float, float, float, float] = SITL_HOME
    speedup: int = SPEEDUP
    instance: int = -1
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        """SERIAL0 TCP port."""
        return 5760 + 10 * self.instance

    @property
    def url(self) -> str:
        """pymavlink URL of SERIAL0."""
        return f"tcp:127.0.0.1:{self.port}"

    def start(self, wipe: bool = False, wait_s: float = 30.0) -> None:
        """Start on a free instance and wait until SERIAL0 accepts connections."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.instance = free_instance()
        lat, lon, alt, hdg = self.home
        cmd = [str(self.binary), "--model", "+", "--speedup", str(self.speedup), f"-I{self.instance}",
               "--home", f"{lat},{lon},{alt},{hdg}", "--defaults", ",".join(str(p) for p in self.defaults)]
        if wipe:
            cmd.append("-w")
        log = (self.run_dir / "sitl.log").open("ab")
        self.process = subprocess.Popen(cmd, cwd=self.run_dir, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        log.close()
        end = time.monotonic() + wait_s
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"SITL exited with {self.process.returncode}; see {self.run_dir / 'sitl.log'}")
            if not _tcp_free(self.port) and self._accepts():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"SITL did not open TCP port {self.port} within {wait_s:g} s")

    def _accepts(self) -> bool:
        # Probe by listening state only: a probe connection would be taken as the SERIAL0 client.
        with open("/proc/net/tcp", encoding="ascii") as table:
            rows = table.read().splitlines()[1:]
        wanted = f":{self.port:04X}"
        return any(r.split()[1].endswith(wanted) and r.split()[3] == "0A" for r in rows)

    def stop(self) -> None:
        """Stop the process this object started (by its pid), waiting for it to exit."""
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.process = None

    def __enter__(self) -> SitlCopter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def set_params(gcs: GroundStation, values: dict[str, float], timeout_s: float = 10.0) -> None:
    """PARAM_SET each value and wait for the vehicle's PARAM_VALUE echo."""
    assert gcs.vehicle is not None
    for name, value in values.items():
        end = time.monotonic() + timeout_s
        next_send = 0.0
        while True:
            now = time.monotonic()
            if now > end:
                raise RuntimeError(f"no PARAM_VALUE for {name} after PARAM_SET")
            if now >= next_send:
                gcs.send(mav2.MAVLink_param_set_message(gcs.vehicle.system_id, gcs.vehicle.component_id,
                                                        name.encode(), value, int(mav2.MAV_PARAM_TYPE_REAL32)))
                next_send = now + 1.0
            msg = gcs.recv(0.2)
            if (msg is not None and msg.get_type() == "PARAM_VALUE" and _param_id(msg) == name
                    and abs(float(msg.param_value) - value) < 1e-6):
                break


def read_params(gcs: GroundStation, names: list[str], timeout_s: float = 10.0) -> dict[str, float]:
    """PARAM_REQUEST_READ each name; returns the vehicle's values."""
    assert gcs.vehicle is not None
    values: dict[str, float] = {}
    for name in names:
        end = time.monotonic() + timeout_s
        next_send = 0.0
        while name not in values:
            now = time.monotonic()
            if now > end:
                raise RuntimeError(f"no PARAM_VALUE for {name}")
            if now >= next_send:
                gcs.send(mav2.MAVLink_param_request_read_message(gcs.vehicle.system_id, gcs.vehicle.component_id,
                                                                 name.encode(), -1))
                next_send = now + 1.0
            msg = gcs.recv(0.2)
            if msg is not None and msg.get_type() == "PARAM_VALUE" and _param_id(msg) == name:
                values[name] = float(msg.param_value)
    return values


def _param_id(msg: Any) -> str:
    raw = msg.param_id
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
    return text.rstrip("\x00")


def prepared_run_dir(binary: Path, defaults: tuple[Path, ...], folder: Path) -> Path:
    """A run folder whose ``eeprom.bin`` has the camera configured (one boot with ``-w``, then PARAM_SET)."""
    folder.mkdir(parents=True, exist_ok=True)
    with SitlCopter(binary, defaults, folder) as sitl:
        sitl.start(wipe=True)
        with GroundStation(sitl.url, RetryPolicy(), connect_timeout_s=30) as gcs:
            gcs.connect("ardupilot")
            set_params(gcs, CAMERA_PARAMS)
    return folder


def copy_run_dir(prepared: Path, folder: Path) -> Path:
    """A fresh run folder holding a copy of the prepared ``eeprom.bin``."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(prepared / "eeprom.bin", folder / "eeprom.bin")
    return folder
