#!/usr/bin/env bash
# Dependency audit of the locked requirements (make audit): uv.lock -> requirements -> pip-audit.
#
# pip-audit asks the PyPI JSON API (its default vulnerability service) about every pinned
# version. If that service cannot be reached, this script says so and exits 2: it never reports
# "no known vulnerabilities" without having checked. Exit codes: 0 checked, none found;
# 1 vulnerabilities found (listed); 2 not checked (database unreachable or the export failed).
set -uo pipefail
BIN=${BIN:-.venv/bin}
UV=${UV:-uv}
SERVICE_URL=${PREDMAINT_AUDIT_PROBE_URL:-https://pypi.org/pypi/pip/json}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if ! $UV export --frozen --all-groups --no-hashes --no-emit-project --format requirements.txt \
        -o "$out/requirements.txt" >"$out/export.log" 2>&1; then
    echo "audit: NOT CHECKED - exporting uv.lock failed: $(tail -1 "$out/export.log")" >&2
    exit 2
fi
count=$(grep -cE '^[A-Za-z0-9]' "$out/requirements.txt")

if ! "$BIN/python" - "$SERVICE_URL" <<'PY' 2>"$out/probe.log"; then
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=15).read(1)
PY
    echo "audit: NOT CHECKED - the vulnerability database ($SERVICE_URL) cannot be reached:" \
         "$(tail -1 "$out/probe.log")" >&2
    echo "audit: run 'make audit' where PyPI is reachable (CI: see docs/security.md)" >&2
    exit 2
fi

echo "audit: checking $count locked requirements from uv.lock with pip-audit"
"$BIN/pip-audit" --requirement "$out/requirements.txt" --no-deps --disable-pip \
    --progress-spinner off --timeout 30 --strict 2>"$out/audit.err"
status=$?
if [ $status -ne 0 ] && ! grep -q "Found [0-9]* known vulnerabilit" "$out/audit.err"; then
    cat "$out/audit.err" >&2
    echo "audit: NOT CHECKED - pip-audit failed before finishing (exit $status)" >&2
    exit 2
fi
cat "$out/audit.err" >&2
exit $status
