"""What the container part adds to CI: apt installs, base images, build, the stack story, ``down -v`` (not a test).

Runs ``tests/integration/test_containers.py`` exactly as ``.ci/run`` does (``CI=true``, the real data
from ``PREDMAINT_DATA_PATH``) and collects its ``phase …: N s`` lines into a table with the total wall
time. ``--cold`` first removes every image, container, volume and the build cache (``docker system prune
-af --volumes``, as ``.ci/run`` does when it stops dockerd), so the base images are debootstrapped and the
uv cache is empty, as on a fresh CI machine; without it the run is warm (base images and build cache
kept). ``--apt`` also times ``.ci/run``'s apt installs (``docker.io docker-compose debootstrap``) from
scratch in a throw-away container of the minimal Debian image that deploy/offline-bases.sh makes
(the host's own packages are already installed, so they cannot be timed there; a fuller host image
only makes this faster).

Needs root and a running Docker engine (this script starts none). Run from the project root::

    nice .venv/bin/python bench/containers.py --cold --apt
    nice .venv/bin/python bench/containers.py            # warm: right after a first run
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKER = "/usr/bin/docker"
ROOTFS_IMAGE = "predmaint-offline/debian:bookworm"
APT = "docker.io docker-compose debootstrap"


def sh(*cmd: str, timeout: float = 1800) -> str:
    """Run a command, fail loudly, return its stdout."""
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:4])}… failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout


def prune() -> None:
    """Remove every image, container, volume, network and the build cache of the engine."""
    sh(DOCKER, "system", "prune", "-af", "--volumes")
    sh(DOCKER, "builder", "prune", "-af")


def stack_test() -> tuple[list[tuple[str, int]], float, str]:
    """The container test as CI runs it: its phases, its wall time and pytest's last line."""
    env = {**os.environ, "CI": "true", "PATH": f"/usr/bin:{os.environ.get('PATH', '')}"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/integration/test_containers.py", "-q", "-s", "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False,
    )  # fmt: skip
    wall = time.monotonic() - started
    phases = [(m[1], int(m[2])) for m in re.finditer(r"^phase (.+): (\d+) s$", done.stdout, re.M)]
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    if done.returncode != 0:
        print(done.stdout[-6000:], file=sys.stderr)
    return phases, wall, summary


def apt_cold() -> float:
    """Seconds for ``.ci/run``'s apt installs on a minimal Debian (a throw-away container, host network)."""
    started = time.monotonic()
    sh(
        DOCKER, "run", "--rm", "--network", "host", ROOTFS_IMAGE, "sh", "-c",
        f"apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends {APT}",
    )  # fmt: skip
    return time.monotonic() - started


def main() -> None:
    """Parse the options, run the measurement, print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold", action="store_true", help="prune all images and the build cache first")
    ap.add_argument("--apt", action="store_true", help="also time the apt installs in a throw-away container")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    if args.cold:
        prune()
    phases, wall, summary = stack_test()
    rows = [*phases, ("the whole test (pytest wall time)", round(wall))]
    if args.apt:
        rows.insert(0, (f"apt installs ({APT}), minimal Debian", round(apt_cold())))
    print(f"\n{'cold' if args.cold else 'warm'} run, load average {load:.1f} at start → {os.getloadavg()[0]:.1f}")
    print(f"pytest: {summary}\n\n| step | s |\n| --- | ---: |")
    for name, secs in rows:
        print(f"| {name} | {secs} |")


if __name__ == "__main__":
    main()
