"""Flight stage: multispectral survey planning for the Shimanto drone council.

Public API (import from the modules; this package imports nothing itself):

* :mod:`.cameras` – ``Camera``, ``CAMERAS``, ``get_camera(name)``, ``load_camera_file(path)``,
  ``resolve_camera(name_or_path)``, ``camera_problems(spec)``.
* :mod:`.camcalc` – QGC CameraCalc: ``gsd_cm``, ``altitude_for_gsd``, ``footprint_m``, ``grid_geometry``,
  ``speed_limits_m_s``, ``max_speed_m_s``, ``parse_overlap`` (75, 75% or 0.75).
* :mod:`.grid` – ``lawnmower(area, spacing, angle_deg, start_near, turnaround_m, keep_out, qgc_lines)``;
  :mod:`.angles` – QGC Survey angle ↔ grid angle, ``qgc_lines``.
* :mod:`.flight_time` – ``CopterParams``, ``flight_phases`` (ArduCopter phases), ``shot_spacing_m``.
* :mod:`.route` – ``Kinematics``, ``path_time_s``, ``best_angle``; :mod:`.detour` – ``detour(p, q, keep_out)``.
* :mod:`.terrain` – ``load_dem``, ``Dem.ground_fn(crs)``, ``follow_terrain``, ``path_agl_range``.
* :mod:`.battery` – ``Battery``, ``split_sorties``; :mod:`.solar` – ``sun_elevation_deg``, ``sun_window``.
* :mod:`.checks` – ``Issue``, ``CheckSettings``, ``check_mission``, ``has_errors``; :mod:`.preflight` – the checks
  before an upload (``plan_issues``, ``refuse_unless_cleared``, ``WARNING_CODES``).
* :mod:`.qgc` – ``read_mission_file``, ``read_plan``, ``read_waypoints``, ``write_plan``, ``write_waypoints``;
  :mod:`.simple_items` – ``parse_simple_item``; :mod:`.survey_figures` – a ``.plan``'s Survey camera figures.
* :mod:`.planner` – ``SurveyRequest``, ``plan_survey``; :mod:`.outputs` – ``write_survey_outputs``;
  :mod:`.manifest` – ``NAME.manifest.json``, ``check_listed``.
"""
