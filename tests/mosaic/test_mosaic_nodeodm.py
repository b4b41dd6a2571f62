"""``shimanto mosaic`` against the real NodeODM peer (v2.2.3, ``--test`` mode) on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rasterio

from pipeline.common.cog import cog_problems
from pipeline.ingest.mosaic.node import NodeSettings
from pipeline.ingest.mosaic.precheck import MosaicRequest
from pipeline.ingest.mosaic.run import STATE_NAME, run_mosaic

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def one_error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_mosaic_end_to_end_into_indices(nodeodm, micasense, cli, tmp_path: Path, capsys) -> None:
    node = nodeodm()
    out = tmp_path / "m"
    assert cli("mosaic", micasense / "0000SET", "--node", node.url, "--out", out) == 0
    record = json.loads((out / "mosaic.json").read_text())
    assert sorted(p.name for p in out.iterdir() if p.name != ".shimanto-output.json") == [
        "dsm.tif", "mosaic.json", "orthophoto.tif"]
    assert cog_problems(out / "orthophoto.tif") == [] and cog_problems(out / "dsm.tif") == []
    assert [c["label"] for c in record["captures"]] == ["IMG_0000", "IMG_0001"]
    assert [c["panel"] for c in record["captures"]] == [True, False] and record["excluded"] == []
    assert record["odm_options"]["radiometric-calibration"] == "camera+sun"
    assert record["odm_options"]["orthophoto-resolution"] == pytest.approx(5.01, abs=0.05)  # 72.7 m AGL / 1449 px
    assert record["sensor"] == "rgb"  # the test node returns ODM's canned RGB orthophoto
    # The node received exactly our task, options and ten band images.
    [task] = node.tasks()
    assert task["uuid"] == record["task_uuid"] and task["imagesCount"] == 10
    sent = {o["name"]: o["value"] for o in task["options"]}
    assert sent["radiometric-calibration"] == "camera+sun" and sent["dsm"] is True
    with rasterio.open(out / "orthophoto.tif") as ds:
        assert ds.crs.to_epsg() == 32615 and ds.tags()["ODM_TASK"] == record["task_uuid"]
    capsys.readouterr()
    assert cli("indices", out / "orthophoto.tif", "--sensor", "rgb", "--indices", "gli,ngrdi",
               "--out", tmp_path / "idx") == 0
    assert "8-bit" in capsys.readouterr().err
    for stem in ("spyndex_GLI", "spyndex_NGRDI"):
        assert cog_problems(tmp_path / "idx" / f"{stem}.tif") == []


def test_whole_card_leaves_bad_captures_out_or_strict_refuses(nodeodm, micasense, cli, tmp_path: Path,
                                                             capsys) -> None:
    node = nodeodm()
    out = tmp_path / "strict"
    assert cli("mosaic", micasense, "--node", node.url, "--out", out, "--strict") == 2
    line = one_error_line(capsys.readouterr().err)
    assert "IMG_0002" in line and "IMG_0003" in line and "1/6329" in line and "nothing uploaded" in line
    assert not out.exists() and node.tasks() == []
    out = tmp_path / "lenient"
    assert cli("mosaic", micasense, "--node", node.url, "--out", out) == 0
    err = capsys.readouterr().err
    assert "capture IMG_0002 left out" in err and "capture IMG_0003 left out" in err
    record = json.loads((out / "mosaic.json").read_text())
    assert [e["label"] for e in record["excluded"]] == ["IMG_0002", "IMG_0003"]


def test_failing_task_one_line_with_task_output(nodeodm, micasense, cli, tmp_path: Path, capsys) -> None:
    node = nodeodm("--test_fail_tasks")
    out = tmp_path / "m"
    assert cli("mosaic", micasense / "0000SET", "--node", node.url, "--out", out) == 1
    line = one_error_line(capsys.readouterr().err)
    [task] = node.tasks()
    assert f"OpenDroneMap task {task['uuid']} failed" in line and "last output:" in line
    assert "candidate matches" in line  # the last lines of the task's console output
    assert not out.exists()


def test_dropped_uploads_recovered_by_retries(nodeodm, micasense, tmp_path: Path) -> None:
    node = nodeodm("--test_drop_uploads")  # half of the uploads answer 500
    settings = NodeSettings(upload_retries=40, retry_wait_s=0.05, poll_s=0.3)
    result = run_mosaic(micasense / "0000SET", node.url, tmp_path / "m", settings=settings)
    assert cog_problems(result.orthophoto) == []
    [task] = node.tasks()
    assert task["imagesCount"] == 10 and task["uuid"] == result.task_uuid
    assert "Uploads will drop at random" in node.log.read_text()


def test_wrong_token_refused_clear_line(nodeodm, micasense, cli, tmp_path: Path, capsys) -> None:
    node = nodeodm(token="s3cret")
    out = tmp_path / "m"
    assert cli("mosaic", micasense / "0000SET", "--node", node.url, "--out", out, "--token", "wrong") == 4
    line = one_error_line(capsys.readouterr().err)
    assert "refused the token" in line and "--token" in line and "wrong" not in line.split("(")[0]
    assert not out.exists()
    assert cli("mosaic", micasense / "0000SET", "--node", node.url, "--out", out, "--token", "s3cret") == 0


def test_unreachable_node_exit_4(micasense, cli, unused_port: int, tmp_path: Path, capsys) -> None:
    out = tmp_path / "m"
    assert cli("mosaic", micasense / "0000SET", "--node", f"http://127.0.0.1:{unused_port}", "--out", out) == 4
    assert "NodeODM or ClusterODM" in one_error_line(capsys.readouterr().err) and not out.exists()


def _start_client(args: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen([sys.executable, str(PROJECT_ROOT / "cli.py"), *args], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _wait_running(node, out: Path, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (out / STATE_NAME).is_file():
            tasks = node.tasks()
            if tasks and tasks[0]["status"]["code"] == 20:
                return str(tasks[0]["uuid"])
        time.sleep(0.2)
    raise AssertionError("the task never started running on the node")


def test_killed_client_resumes_same_task(nodeodm, micasense, cli, tmp_path: Path, capsys) -> None:
    node = nodeodm("--test_seconds", "6")
    out = tmp_path / "m"
    args = ["mosaic", str(micasense / "0000SET"), "--node", node.url, "--out", str(out)]
    client = _start_client(args)
    try:
        uuid = _wait_running(node, out)
    finally:
        os.killpg(client.pid, signal.SIGKILL)  # the client dies mid-task (our own child, by pid)
        client.wait(timeout=10)
    assert json.loads((out / STATE_NAME).read_text())["task_uuid"] == uuid
    capsys.readouterr()
    assert cli(*args) == 0
    assert f"task {uuid} (resumed)" in capsys.readouterr().out
    assert json.loads((out / "mosaic.json").read_text())["task_uuid"] == uuid
    assert [t["uuid"] for t in node.tasks()] == [uuid]  # no second task was submitted
    assert not (out / STATE_NAME).exists()


def test_node_lost_mid_task_is_requeried_by_uuid(nodeodm, micasense, tmp_path: Path) -> None:
    node = nodeodm("--test_seconds", "4")
    out = tmp_path / "m"
    client = _start_client(["mosaic", str(micasense / "0000SET"), "--node", node.url, "--out", str(out)])
    try:
        uuid = _wait_running(node, out)
        node.stop()  # the connection drops: NodeODM dumps its task list and exits
        time.sleep(3)  # the client meets a refused connection and keeps asking for its task
        node.start()  # same port and folder: the task is restored (queued again) and finishes
        stdout, stderr = client.communicate(timeout=120)
    finally:
        if client.poll() is None:
            os.killpg(client.pid, signal.SIGKILL)
    assert client.returncode == 0, stderr.decode()
    assert f"task {uuid}" in stdout.decode()
    assert json.loads((out / "mosaic.json").read_text())["task_uuid"] == uuid
    assert [t["uuid"] for t in node.tasks()] == [uuid]


def test_ctrl_c_cancels_remote_task(nodeodm, micasense, tmp_path: Path) -> None:
    node = nodeodm("--test_seconds", "20")
    out = tmp_path / "m"
    client = _start_client(["mosaic", str(micasense / "0000SET"), "--node", node.url, "--out", str(out)])
    try:
        _wait_running(node, out)
        os.killpg(client.pid, signal.SIGINT)
        _stdout, stderr = client.communicate(timeout=30)
    finally:
        if client.poll() is None:
            os.killpg(client.pid, signal.SIGKILL)
    assert client.returncode == 130, stderr
    [task] = node.tasks()
    assert task["status"]["code"] == 50  # canceled on the node
    assert not out.exists()


def test_precheck_refuses_before_contacting_node(micasense, tmp_path: Path) -> None:
    from pipeline.errors import InputError

    with pytest.raises(InputError, match="--panel 'IMG_9999' is not a usable capture"):
        run_mosaic(micasense / "0000SET", "http://127.0.0.1:9", tmp_path / "m", request=MosaicRequest(panel="IMG_9999"))
    with pytest.raises(InputError, match="token belongs in --token"):
        run_mosaic(micasense / "0000SET", "http://127.0.0.1:9/?token=x", tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_foreign_out_folder_refused_before_upload(micasense, cli, tmp_path: Path, capsys) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    assert cli("mosaic", micasense / "0000SET", "--node", "http://127.0.0.1:9", "--out", mine) == 2
    assert "notes.txt" in one_error_line(capsys.readouterr().err)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
