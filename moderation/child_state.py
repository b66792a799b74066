"""The state of ``moderation up``'s children, written by the supervisor and read by ``/readyz``.

A small JSON file under the instance directory (its path is passed to the children in
``MODERATION_SUPERVISOR_STATE``): the web process learns that a worker or Redis is restarting, or
that the supervisor gave up, without any channel of its own to the supervisor.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

STATE_ENV = "MODERATION_SUPERVISOR_STATE"


def write_state(path: Path, supervisor_pid: int, children: dict[str, dict[str, Any]]) -> None:
    """Replace the file atomically, so a reader never sees half of it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps({"pid": supervisor_pid, "children": children}))
    os.replace(temporary, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def processes_check(path: Path) -> dict[str, Any]:
    """``/readyz``'s "processes" check: ok when the supervisor runs and every child is running."""
    try:
        state = json.loads(path.read_text())
        children: dict[str, dict[str, Any]] = state["children"]
        supervisor_pid = int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return {"ok": False, "error": f"supervisor state unreadable: {exc}"}
    if not _alive(supervisor_pid):
        return {"ok": False, "error": "moderation up is not running", "children": children}
    down = {name: child for name, child in children.items() if child.get("state") != "running"}
    if not down:
        return {"ok": True, "children": {name: child["state"] for name, child in children.items()}}
    reasons = [
        f"{name} {child.get('state')}"
        + (f" (exited with code {child['last_exit']})" if child.get("last_exit") is not None else "")
        for name, child in sorted(down.items())
    ]
    return {
        "ok": False,
        "error": "; ".join(reasons),
        "children": {name: child["state"] for name, child in children.items()},
    }
