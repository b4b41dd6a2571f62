"""Disaster search: IAMSAR search plans for several drones, signed live-stream links and the command-post board.

Modules: :mod:`optics` (height/spacing from camera and target), :mod:`patterns`
(pure IAMSAR geometry), :mod:`timing` (flight time, sorties, balanced split),
:mod:`layout` (pattern registry -> one sector per drone), :mod:`planner` and
:mod:`plan_io` (missions and files), :mod:`tokens` (HMAC stream tokens),
:mod:`board` / :mod:`board_html` (board.json, board.html), :mod:`auth_server`
and :mod:`nginx` (the streaming server), :mod:`monitor` (live MAVLink telemetry).
"""
