"""MAVLink stage: verified mission transfer, vehicle control and telemetry monitoring.

Modules: :mod:`~pipeline.mavlink.wire` (item encoding, home/fence/rally conventions),
:mod:`~pipeline.mavlink.protocol` (pure ground-side mission-protocol state machines),
:mod:`~pipeline.mavlink.verify` (read-back comparison by meaning),
:mod:`~pipeline.mavlink.link` and :mod:`~pipeline.mavlink.client` (I/O edge),
:mod:`~pipeline.mavlink.control` (mode, arm, mission start), :mod:`~pipeline.mavlink.monitor`,
and the hardware test double: :mod:`~pipeline.mavlink.vehicle` (simulated autopilot),
:mod:`~pipeline.mavlink.vehicle_mission`, :mod:`~pipeline.mavlink.vehicle_store`, :mod:`~pipeline.mavlink.flightsim`
(the lossy link used by tests lives in :mod:`pipeline.testing.lossy`).
"""
