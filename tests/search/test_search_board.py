"""``shimanto search board``: signed links, escaping, the self-contained page in headless Chromium, no secret leaks."""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.search.board import stream_links
from pipeline.search.tokens import read_secret, verify_token

EVIL = "<script>alert('x')</script> & 川"


@pytest.fixture
def board_dir(run_cli, make_area, secret_file: Path, tmp_path: Path) -> Path:
    out = tmp_path / "plan"
    assert run_cli(["search", "plan", str(make_area(name=EVIL)), "--out", str(out), "--drones", "3"]) == 0
    assert run_cli(["search", "board", str(out), "--stream-host", "hq.shimanto.local", "--secret-file",
                    str(secret_file), "--ttl", "2h", "--hls-port", "8080", "--rtmp-port", "1935"]) == 0
    return out


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.script_tags = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v or "" for k, v in attrs if k == "href"]
        if tag == "script":
            self.script_tags += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_board_links_are_signed_for_their_stream_and_role(board_dir: Path, secret_file: Path) -> None:
    board = json.loads((board_dir / "board.json").read_text())
    secret = read_secret(secret_file)
    now = time.time()
    assert board["expires_unix"] == pytest.approx(now + 7200, abs=30)
    assert board["webrtc"]["available"] is False and "nginx-rtmp" in board["webrtc"]["note"]
    for sector in board["sectors"]:
        sid, links = sector["id"], sector["links"]
        assert links["publish"].startswith(f"rtmp://hq.shimanto.local:1935/live/{sid}?token=")
        assert links["hls"].startswith(f"http://hq.shimanto.local:8080/hls/{sid}.m3u8?token=")
        pub = links["publish"].split("token=")[1]
        hls = links["hls"].split("token=")[1]
        play = links["rtmp_play"].split("token=")[1]
        assert verify_token(secret, pub, f"/live/{sid}", "publish", now).ok
        assert verify_token(secret, hls, f"/hls/{sid}", "read", now).ok
        assert verify_token(secret, play, f"/live/{sid}", "read", now).ok
        assert not verify_token(secret, play, f"/live/{sid}", "publish", now).ok
        assert sector["status"] == "planned"
    assert verify_token(secret, board["board_url"].split("token=")[1], "/board", "read", now).ok


def test_secret_never_appears_in_any_output(board_dir: Path, secret_file: Path) -> None:
    secret = read_secret(secret_file)
    for path in board_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert secret not in data, path
            assert secret.upper() not in data.upper(), path


def test_page_is_self_contained_and_escapes_user_text(board_dir: Path) -> None:
    html = (board_dir / "board.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//(?!hq\.shimanto\.local)""", html)
    assert "<link" not in html and "@import" not in html
    parser = _Collector()
    parser.feed(html)
    assert parser.script_tags == 2  # the embedded JSON and the inline script; the sector name is no tag
    assert "<script>alert(&#x27;x&#x27;)</script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; 川" in html
    assert any(EVIL in t for t in parser.text)
    board = json.loads((board_dir / "board.json").read_text())
    for sector in board["sectors"]:
        for url in sector["links"].values():
            assert url in parser.hrefs
    assert html.count("<svg") >= 1 + len(board["sectors"])  # map + one QR per publish URL


@pytest.mark.system
def test_board_renders_in_headless_chromium(board_dir: Path, chromium, tmp_path: Path) -> None:
    shot = tmp_path / "board.png"
    dom = chromium((board_dir / "board.html").as_uri(), screenshot=shot)
    parser = _Collector()
    parser.feed(dom)
    board = json.loads((board_dir / "board.json").read_text())
    for sector in board["sectors"]:
        for url in sector["links"].values():
            assert url in parser.hrefs, url
        assert f'id="status-{sector["id"]}"' in dom
    assert any(EVIL in t for t in parser.text)  # the evil name is text in the live DOM
    assert dom.count("<script") == 2
    assert re.search(r'id="updated">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC<', dom)  # the page script ran
    assert shot.stat().st_size > 20_000
    from PIL import Image

    with Image.open(shot) as img:
        assert img.size == (1400, 1000)
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 50  # a drawn page, not a blank one


def test_board_refuses_bad_settings(run_cli, board_dir: Path, secret_file: Path, capsys) -> None:
    assert run_cli(["search", "board", str(board_dir), "--stream-host", "http://x/y", "--secret-file",
                    str(secret_file)]) == 2
    assert "bare host name" in capsys.readouterr().err
    assert run_cli(["search", "board", str(board_dir), "--stream-host", "hq", "--secret-file", str(secret_file),
                    "--ttl", "soon"]) == 2
    assert run_cli(["search", "board", str(board_dir.parent), "--stream-host", "hq", "--secret-file",
                    str(secret_file)]) == 2
    assert "search plan" in capsys.readouterr().err


def test_links_change_with_the_secret(secret_file: Path) -> None:
    from pipeline.search.board import StreamEndpoints

    ep = StreamEndpoints("hq")
    a = stream_links(b"a" * 32, ep, "s1", 2_000_000_000)
    b = stream_links(b"b" * 32, ep, "s1", 2_000_000_000)
    assert a["publish"] != b["publish"] and a["hls"] != b["hls"]
