"""Errors of the mosaic stage (narrower subclasses of :mod:`pipeline.errors`)."""

from __future__ import annotations

from pipeline.errors import LinkError, PipelineError


class NodeLinkError(LinkError):
    """The NodeODM/ClusterODM node cannot be reached, refused the token, or answered nonsense (exit 4)."""


class OdmTaskError(PipelineError, RuntimeError):
    """OpenDroneMap ran the task and it failed or was cancelled on the node (exit 1).

    The message carries the task UUID and the task's last output lines.
    """

    exit_code = 1
