"""A NodeODM / ClusterODM node through ``pyodm``: connect, submit, follow, cancel, download.

Every ``pyodm`` failure becomes one :class:`~.errors.NodeLinkError` line (exit 4):
connection refused or timed out, a token the node refuses, an answer that is not
NodeODM's. A task that ODM itself fails becomes :class:`~.errors.OdmTaskError`
with the task's last output lines.

Resuming: the caller chooses the task UUID (NodeODM's ``set-uuid`` header, v1.5.3+)
and writes it down before the upload, so a client that died at any moment can
ask the node for that UUID again (:func:`task_state`): a committed task is
followed to its end; an upload that never reached ``/task/new/commit`` is not a
task on the node, and is simply sent again under the same UUID (NodeODM
discards the half-uploaded folder of that UUID itself).
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipeline.errors import InputError
from pipeline.ingest.mosaic.errors import NodeLinkError, OdmTaskError

#: Task states of NodeODM (``libs/statusCodes.js``).
QUEUED, RUNNING, FAILED, COMPLETED, CANCELED = 10, 20, 30, 40, 50
STATUS_NAMES = {QUEUED: "queued", RUNNING: "running", FAILED: "failed", COMPLETED: "completed", CANCELED: "canceled"}
#: Lines of the task's console output quoted when ODM fails.
TAIL_LINES = 8


@dataclass(frozen=True)
class NodeSettings:
    """How patiently the client talks to the node.

    Attributes:
        timeout_s: Timeout of one HTTP request, s.
        upload_retries: Attempts per image beyond the first (pyodm retries dropped uploads).
        retry_wait_s: Wait before the n-th retry of an image = n x this, s.
        parallel_uploads: Images uploaded at once.
        poll_s: Interval between task status queries, s.
        reconnect_s: How long a lost node is re-queried (by task UUID) before giving up, s.
    """

    timeout_s: float = 30.0
    upload_retries: int = 10
    retry_wait_s: float = 2.0
    parallel_uploads: int = 4
    poll_s: float = 2.0
    reconnect_s: float = 120.0


@dataclass(frozen=True)
class NodeAddress:
    """A node URL split into what ``pyodm.Node`` takes; ``display`` never shows the token."""

    host: str
    port: int
    display: str


def parse_node_url(url: str) -> NodeAddress:
    """Validate ``--node`` (``http://host:port``; ``https://host`` means port 443, as pyodm assumes).

    Raises:
        InputError: not an http(s) URL with a host, or https on a port other than 443.
    """
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    problems: list[str] = []
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append("it is not http://HOST:PORT")
    if port == -1:
        problems.append("its port is not a number in 1-65535")
    if parts.scheme == "https" and port not in (None, 443):
        problems.append("pyodm speaks https only on port 443")
    if "token=" in parts.query:
        problems.append("the token belongs in --token, not in the URL (URLs end up in logs)")
    if problems:
        raise InputError(f"--node {url!r}: {'; '.join(problems)}; expected e.g. http://127.0.0.1:3000")
    real_port = port if port is not None else (443 if parts.scheme == "https" else 80)
    return NodeAddress(parts.hostname or "", real_port, f"{parts.scheme}://{parts.hostname}:{real_port}")


def link_error(address: NodeAddress, exc: BaseException, doing: str) -> NodeLinkError:
    """One line for a pyodm failure while ``doing`` something with the node."""
    text = str(exc).strip() or type(exc).__name__
    lowered = text.lower()
    if "token" in lowered or "unauthorized" in lowered:
        return NodeLinkError(
            f"node {address.display} refused the token while {doing} ({text}); pass the node's token with --token"
        )
    return NodeLinkError(
        f"node {address.display} failed while {doing} ({type(exc).__name__}: {text[:200]}); check that NodeODM or "
        "ClusterODM runs there and --node is right, then run the same command again (it resumes)"
    )


def connect(address: NodeAddress, token: str, settings: NodeSettings) -> tuple[Any, dict[str, Any]]:
    """A ``pyodm.Node`` whose token the node accepts, and the node's ``/info``.

    ``/info`` is public on NodeODM, so the token is proven on ``/task/list``.

    Raises:
        NodeLinkError: unreachable, not a NodeODM API, or the token is refused.
    """
    from pyodm import Node
    from pyodm.exceptions import OdmError

    node = Node(address.host, address.port, token=token, timeout=settings.timeout_s)
    try:
        info = node.get("/info", {})
        node.get("/task/list", {})
    except OdmError as exc:
        raise link_error(address, exc, "checking the node") from exc
    if not isinstance(info, dict) or "version" not in info:
        raise NodeLinkError(f"{address.display}/info is not a NodeODM answer ({str(info)[:120]}); check --node")
    return node, info


def task_state(node: Any, address: NodeAddress, uuid: str) -> dict[str, Any] | None:
    """The node's ``/task/<uuid>/info``, or ``None`` when the node holds no such (committed) task.

    Raises:
        NodeLinkError: the node cannot be asked.
    """
    from pyodm.exceptions import NodeResponseError, OdmError

    try:
        info = node.get(f"/task/{uuid}/info", {})
    except NodeResponseError as exc:
        if "not found" in str(exc).lower():
            return None
        raise link_error(address, exc, f"asking for task {uuid}") from exc
    except OdmError as exc:
        raise link_error(address, exc, f"asking for task {uuid}") from exc
    return info if isinstance(info, dict) else None


def submit(node: Any, address: NodeAddress, uuid: str, files: Sequence[Path], options: dict[str, Any],
           name: str, outputs: Sequence[str], settings: NodeSettings,
           progress: Callable[[float], None] | None = None) -> None:
    """Upload ``files`` as task ``uuid`` (chunked API, retried per image) and commit it.

    Raises:
        NodeLinkError: an image could not be uploaded after its retries, or the node refused the task.
    """
    from pyodm.exceptions import OdmError

    try:
        node.create_task([str(f) for f in files], options=dict(options), name=name, progress_callback=progress,
                         outputs=list(outputs), parallel_uploads=settings.parallel_uploads,
                         max_retries=settings.upload_retries, retry_timeout=settings.retry_wait_s, task_uuid=uuid)
    except OdmError as exc:
        raise link_error(address, exc, f"uploading {len(files)} images as task {uuid}") from exc


def follow(node: Any, address: NodeAddress, uuid: str, settings: NodeSettings,
           progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Poll the task until it ends; a dropped node is re-queried by UUID for ``reconnect_s``.

    Returns:
        The final ``/task/<uuid>/info`` of a completed task.

    Raises:
        OdmTaskError: ODM failed or the task was cancelled (message with its last output lines).
        NodeLinkError: the node stayed unreachable, or forgot the task.
    """
    from pyodm.exceptions import NodeConnectionError, NodeServerError

    lost_since: float | None = None
    while True:
        try:
            info = task_state(node, address, uuid)
        except NodeLinkError as exc:
            if not isinstance(exc.__cause__, NodeConnectionError | NodeServerError):
                raise
            lost_since = lost_since if lost_since is not None else time.monotonic()
            if time.monotonic() - lost_since > settings.reconnect_s:
                raise
            time.sleep(settings.poll_s)
            continue
        lost_since = None
        if info is None:
            raise NodeLinkError(f"node {address.display} no longer knows task {uuid} (removed or node reset); "
                                "run the command again to submit the captures anew")
        if progress is not None:
            progress(info)
        code = int(info.get("status", {}).get("code", 0))
        if code == COMPLETED:
            return info
        if code in (FAILED, CANCELED):
            raise OdmTaskError(failure_line(node, uuid, info))
        time.sleep(settings.poll_s)


def failure_line(node: Any, uuid: str, info: dict[str, Any]) -> str:
    """``ODM task UUID failed (error): last output lines`` on one line (`` | `` between lines)."""
    from pyodm.exceptions import OdmError

    code = int(info.get("status", {}).get("code", 0))
    error = str(info.get("status", {}).get("errorMessage") or "no error message")
    try:
        lines = node.get(f"/task/{uuid}/output", {"line": -TAIL_LINES})
    except OdmError:
        lines = []
    tail = " | ".join(str(line).strip() for line in (lines if isinstance(lines, list) else []) if str(line).strip())
    return (f"OpenDroneMap task {uuid} {STATUS_NAMES.get(code, str(code))} ({error}); last output: "
            f"{tail or '(none)'}; fix the captures or options and run again (see the node's task log)")


def cancel(node: Any, uuid: str) -> bool:
    """Ask the node to cancel task ``uuid``; ``False`` when it could not be asked (best effort on Ctrl-C)."""
    from pyodm.exceptions import OdmError

    try:
        result = node.post("/task/cancel", {"uuid": uuid})
    except OdmError:
        return False
    return bool(isinstance(result, dict) and result.get("success"))


def download(node: Any, address: NodeAddress, uuid: str, folder: Path, wanted: Sequence[str]) -> dict[str, Path]:
    """Download the task's ``all.zip`` into ``folder`` and extract the ``wanted`` members.

    Returns:
        Member name (e.g. ``odm_orthophoto/odm_orthophoto.tif``) to its extracted path, for the members present.

    Raises:
        NodeLinkError: the download failed or the archive is not a zip.
    """
    from pyodm import Task
    from pyodm.exceptions import OdmError

    try:
        archive = Path(Task(node, uuid).download_zip(str(folder), parallel_downloads=1))
    except OdmError as exc:
        raise link_error(address, exc, f"downloading the results of task {uuid}") from exc
    found: dict[str, Path] = {}
    try:
        with zipfile.ZipFile(archive) as zf:
            names = set(zf.namelist())
            for member in wanted:
                if member in names:
                    found[member] = Path(zf.extract(member, folder / "extracted"))
    except zipfile.BadZipFile as exc:
        raise NodeLinkError(f"results of task {uuid} from {address.display} are not a zip archive ({exc}); "
                            "run the command again to download them anew") from exc
    finally:
        archive.unlink(missing_ok=True)
    return found
