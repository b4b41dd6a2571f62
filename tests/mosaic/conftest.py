"""A real NodeODM (../shared/peers/nodeodm, v2.2.3, ``--test`` mode) on loopback for the mosaic tests.

Install once per machine: the peer is copied into a cache folder
(``$XDG_CACHE_HOME/shimanto/nodeodm-<hash of package.json and lock>``) and
``npm ci --omit=dev`` (``npm install --omit=dev`` when the peer ships no lock)
runs there under a file lock, so engineers running the tests at once share one
install; ``node_modules`` is then reused by every test (a symlink from each
test's private copy of the server, which writes its tasks under its own folder).
Each test starts its own server on a free port and stops it by pid.
NodeODM listens on all interfaces (it has no bind option); the tests talk to 127.0.0.1 only.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

NPM_TIMEOUT_S = 600
START_TIMEOUT_S = 40
MIN_NODE_MAJOR = 18
MICASENSE = Path("data") / "micasense-rededge"


def _cache_root() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "shimanto"


def _peer_hash(peer: Path) -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        if (peer / name).is_file():
            digest.update(name.encode() + (peer / name).read_bytes())
    return digest.hexdigest()[:16]


def _copy_tree(src: Path, dst: Path) -> None:
    skip = {src / "node_modules", src / "tmp", src / "tests" / "data"}  # installs and NodeODM's own task folders
    shutil.copytree(src, dst, ignore=lambda folder, names: [n for n in names if Path(folder) / n in skip])
    for path in [dst, *dst.rglob("*")]:  # ../shared is read-only; the copy must be writable
        path.chmod(path.stat().st_mode | 0o200)


@pytest.fixture(scope="session")
def nodeodm_install(shared_dir: Path) -> Path:
    """The cached NodeODM install (source tree + node_modules); skips when Node.js, npm or the peer is missing."""
    peer = shared_dir / "peers" / "nodeodm"
    if not (peer / "index.js").is_file():
        pytest.skip(f"needs the NodeODM peer at {peer} (../shared/peers/nodeodm)")
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs '{tool}' (Debian packages nodejs npm; .ci/run installs them)")
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    if int(version.lstrip("v").split(".")[0] or 0) < MIN_NODE_MAJOR:
        pytest.skip(f"needs Node.js {MIN_NODE_MAJOR}+ for NodeODM, found {version or 'an unknown version'}")
    root = _cache_root()
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"nodeodm-{_peer_hash(peer)}"
    with (root / ".nodeodm.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time across concurrent test runs
        if (final / "node_modules" / ".package-lock.json").is_file():
            return final
        work = root / f".nodeodm-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        _copy_tree(peer, work)
        command = ["npm", "ci" if (peer / "package-lock.json").is_file() else "install", "--omit=dev",
                   "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"]
        try:
            done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=NPM_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            shutil.rmtree(work, ignore_errors=True)
            pytest.skip(f"'{' '.join(command)}' for NodeODM took over {NPM_TIMEOUT_S} s (npm registry unreachable?)")
        if done.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            pytest.skip(f"'{' '.join(command)}' for NodeODM failed: {(done.stderr or done.stdout)[-400:]}")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(work, final)
    return final


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def node_get(url: str, path: str, token: str = "") -> object:
    """GET ``url + path`` (token appended) and decode the JSON answer."""
    sep = "&" if "?" in path else "?"
    with urllib.request.urlopen(url + path + (f"{sep}token={token}" if token else ""), timeout=10) as res:
        return json.loads(res.read())


class NodeODM:
    """One running test-mode NodeODM: ``url``, ``token``, ``pid`` and its log file."""

    def __init__(self, folder: Path, flags: tuple[str, ...], token: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        self.folder = folder
        self.log = folder / "nodeodm.log"
        self.argv = ["node", "index.js", "--test", "--port", str(self.port), *flags]
        if token:
            self.argv += ["--token", token]
        self.start()

    def start(self) -> None:
        """Start (or restart, same folder and port: NodeODM restores its tasks from its dump) the server."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.argv, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.pid = self.process.pid
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                node_get(self.url, "/info")
                return
            except OSError as exc:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"NodeODM did not start: {self.log.read_text(errors='replace')[-800:]}") from exc
                time.sleep(0.2)

    def tasks(self) -> list[dict[str, object]]:
        """Every task the node holds, with its info."""
        listed = node_get(self.url, "/task/list", self.token)
        assert isinstance(listed, list)
        return [node_get(self.url, f"/task/{t['uuid']}/info", self.token) for t in listed]  # type: ignore[misc]

    def stop(self) -> None:
        """Stop the server we started (by its pid and process group)."""
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture
def nodeodm(nodeodm_install: Path, tmp_path: Path) -> Iterator[Callable[..., NodeODM]]:
    """``nodeodm(*flags, token="")`` starts a test-mode NodeODM from a private copy; stopped at teardown."""
    started: list[NodeODM] = []

    def start(*flags: str, token: str = "") -> NodeODM:
        folder = tmp_path / f"nodeodm-{len(started)}"
        _copy_tree(nodeodm_install, folder)
        (folder / "node_modules").symlink_to(nodeodm_install / "node_modules", target_is_directory=True)
        (folder / "tests" / "data").mkdir(parents=True, exist_ok=True)  # NodeODM exits without these
        (folder / "tmp").mkdir(exist_ok=True)
        started.append(NodeODM(folder, flags, token))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def micasense(shared_dir: Path) -> Path:
    """../shared/data/micasense-rededge (two good captures in 0000SET, two bad ones in 0001SET)."""
    folder = shared_dir / MICASENSE
    if not (folder / "0000SET").is_dir():
        pytest.skip(f"needs {folder}")
    return folder


@pytest.fixture
def cli(run_cli: Callable[[list[str]], int]) -> Callable[..., int]:
    """``cli(*args)``: run ``shimanto`` in-process with string arguments."""
    return lambda *args: run_cli([str(a) for a in args])


@pytest.fixture
def unused_port() -> int:
    """A loopback TCP port nothing listens on."""
    return free_port()
