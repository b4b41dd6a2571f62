"""Disaster search: IAMSAR search plans for several drones, signed live-stream links and the command-post board.

Modules: :mod:`optics` (height/spacing from camera and target), :mod:`patterns`
(pure IAMSAR geometry), :mod:`timing` (flight time, sorties, balanced split),
:mod:`layout` (pattern registry -> one sector per drone), :mod:`planner` and
:mod:`plan_io` (missions and files), :mod:`tokens` (HMAC stream tokens),
:mod:`board` / :mod:`board_html` (board.json, board.html with a video tile per drone;
its script and CSS in ``static/``), :mod:`board_assets` (hls.js vendored in ``vendor/``,
the IPAexGothic font), :mod:`pilot_sheet` (the pilots' printable publish links, never
served), :mod:`auth_server` and :mod:`nginx` (the streaming server), :mod:`monitor`
(live MAVLink telemetry), :mod:`demo` (the demo stage and its board screenshot).
"""
