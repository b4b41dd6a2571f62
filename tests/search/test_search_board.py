"""``shimanto search board``: signed links, escaping, the self-contained page in headless Chromium, no secret leaks."""

from __future__ import annotations

import json
import re
import stat
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.search.board import PILOT_SHEETS_HTML, publish_link, stream_links
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
    sheet = (board_dir / PILOT_SHEETS_HTML).read_text(encoding="utf-8")
    for sector in board["sectors"]:
        sid, links = sector["id"], sector["links"]
        assert set(links) == {"hls", "rtmp_play"}  # play links only
        assert links["hls"].startswith(f"http://hq.shimanto.local:8080/hls/{sid}.m3u8?token=")
        publish = re.search(rf"rtmp://hq\.shimanto\.local:1935/live/{sid}\?token=([0-9]+\.[A-Za-z0-9_-]+)", sheet)
        assert publish is not None, sid
        hls = links["hls"].split("token=")[1]
        play = links["rtmp_play"].split("token=")[1]
        assert verify_token(secret, publish.group(1), f"/live/{sid}", "publish", now).ok
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


def test_board_holds_no_publish_link_and_the_pilot_sheet_does(board_dir: Path, secret_file: Path) -> None:
    """Issue 12.3: whoever sees the board can never publish; each pilot gets a printable page."""
    secret, now = read_secret(secret_file), time.time()
    sheet_path = board_dir / PILOT_SHEETS_HTML
    assert stat.S_IMODE(sheet_path.stat().st_mode) == 0o600
    sheet = sheet_path.read_text(encoding="utf-8")
    board = json.loads((board_dir / "board.json").read_text(encoding="utf-8"))
    assert sheet.count('class="page"') == len(board["sectors"]) == 3  # one printable page per drone
    assert "page-break-after:always" in sheet and sheet.count("<svg") == 3  # and its QR code
    assert EVIL not in sheet and "&lt;script&gt;" in sheet
    for name in ("board.html", "board.json"):
        text = (board_dir / name).read_text(encoding="utf-8")
        assert "publish" not in json.dumps(board["sectors"])
        for token in re.findall(r"token=([0-9]+\.[A-Za-z0-9_-]{43})", text):
            for sector in board["sectors"]:
                assert not verify_token(secret, token, f"/live/{sector['id']}", "publish", now).ok, name
                assert token not in sheet, name


def test_board_ships_its_font_and_hls_js(board_dir: Path) -> None:
    from pipeline.common.fontfile import ipaex_gothic_path

    assert (board_dir / "fonts" / "ipaexg.ttf").read_bytes() == ipaex_gothic_path().read_bytes()
    assert "IPA Font License" in (board_dir / "fonts" / "IPA_Font_License_Agreement_v1.0.txt").read_text(
        encoding="utf-8", errors="replace")
    assert (board_dir / "vendor" / "hls.light.min.js").stat().st_size > 100_000
    assert "Apache License" in (board_dir / "vendor" / "hls.js-LICENSE.txt").read_text(encoding="utf-8")
    html = (board_dir / "board.html").read_text(encoding="utf-8")
    assert 'src:url("fonts/ipaexg.ttf")' in html and '<script src="vendor/hls.light.min.js">' in html


def test_page_is_self_contained_and_escapes_user_text(board_dir: Path) -> None:
    html = (board_dir / "board.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//(?!hq\.shimanto\.local)""", html)
    assert not re.search(r"""url\(\s*["']?(https?:)?//""", html)  # no remote font or image in the CSS
    assert "<link" not in html and "@import" not in html
    parser = _Collector()
    parser.feed(html)
    assert parser.script_tags == 3  # the embedded JSON, the local hls.js, the inline script; the name is no tag
    assert "<script>alert(&#x27;x&#x27;)</script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; 川" in html
    assert any(EVIL in t for t in parser.text)
    board = json.loads((board_dir / "board.json").read_text())
    for sector in board["sectors"]:
        for url in sector["links"].values():
            assert url in parser.hrefs
    assert html.count("<svg") >= 1 + len(board["sectors"])  # map + one QR per HLS play link
    assert html.count("<video") == len(board["sectors"])  # one video tile per drone


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
    assert dom.count("<script") == 3
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


@pytest.mark.parametrize("ttl", ["inf", "nan", "1e30", "-inf", "73h", "4d"])
def test_board_refuses_an_endless_ttl_in_one_line(run_cli, board_dir: Path, secret_file: Path, capsys,
                                                  ttl: str) -> None:
    """Issue 12.4: ``--ttl inf``/``nan``/``1e30`` ended in tracebacks; now one line naming the 72 h bound."""
    before = {p.name: p.read_bytes() for p in board_dir.iterdir() if p.is_file()}
    capsys.readouterr()
    assert run_cli(["search", "board", str(board_dir), "--stream-host", "hq", "--secret-file", str(secret_file),
                    "--ttl", ttl]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert repr(ttl) in err and "72h" in err
    assert {p.name: p.read_bytes() for p in board_dir.iterdir() if p.is_file()} == before  # nothing rewritten


def test_links_change_with_the_secret(secret_file: Path) -> None:
    from pipeline.search.board import StreamEndpoints

    ep = StreamEndpoints("hq")
    a = stream_links(b"a" * 32, ep, "s1", 2_000_000_000)
    b = stream_links(b"b" * 32, ep, "s1", 2_000_000_000)
    assert a["hls"] != b["hls"] and a["rtmp_play"] != b["rtmp_play"]
    assert publish_link(b"a" * 32, ep, "s1", 2_000_000_000) != publish_link(b"b" * 32, ep, "s1", 2_000_000_000)


@pytest.mark.system
def test_pilot_sheet_prints_one_page_per_drone(board_dir: Path, tmp_path: Path) -> None:
    """Printed by a real browser (Chromium's print to PDF), the sheet is one page per drone."""
    import shutil
    import subprocess

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("needs 'chromium' (Debian package chromium; install with: bash .ci/system-deps.sh)")
    pdf = tmp_path / "sheets.pdf"
    subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", f"--user-data-dir={tmp_path / 'p'}",
                    f"--print-to-pdf={pdf}", (board_dir / PILOT_SHEETS_HTML).as_uri()],
                   capture_output=True, timeout=60, check=True)
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())
    assert len(pages) == 3
