#!/usr/bin/env bash
# Print a ready-to-use .env for docker compose: .env.example with every empty required value filled
# with a fresh random secret (the optional settings stay commented, edit them afterwards):
#
#   deploy/new-env.sh > .env          # never commit .env
#   deploy/new-env.sh plant > .env    # another identity for the scoped API tokens (default: runner)
#
# Passwords and the admin token: 48 hex digits (URL-safe, they go into connection URLs).
# Scoped API tokens (POST /predict, POST /feedback): a 64-hex-digit token per scope. The runner's
# clients (`predmaint replay`) get the plain token (PREDMAINT_PREDICT_TOKEN, PREDMAINT_FEEDBACK_TOKEN);
# the API gets only its SHA-256 as `IDENTITY=sha256:<hex>` (PREDMAINT_PREDICT_TOKENS,
# PREDMAINT_FEEDBACK_TOKENS), the form `python -m serving.tokens IDENTITY` prints. The identity is
# recorded as the provenance of every label sent with the token.
# Needs only coreutils (od, sha256sum or shasum); reads no network.
set -euo pipefail
cd "$(dirname "$0")/.."
identity=${1:-runner}
[[ $identity =~ ^[A-Za-z0-9_.@-]{1,64}$ ]] || { echo "identity must be 1-64 of A-Z a-z 0-9 _ . @ -" >&2; exit 2; }

rand() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then printf %s "$1" | sha256sum | cut -d' ' -f1
  else printf %s "$1" | shasum -a 256 | cut -d' ' -f1; fi
}
predict=$(rand 32)
feedback=$(rand 32)

while IFS= read -r line || [ -n "$line" ]; do
  case $line in
    PREDMAINT_PREDICT_TOKEN=) echo "$line$predict" ;;
    PREDMAINT_FEEDBACK_TOKEN=) echo "$line$feedback" ;;
    PREDMAINT_PREDICT_TOKENS=) echo "$line$identity=sha256:$(sha256 "$predict")" ;;
    PREDMAINT_FEEDBACK_TOKENS=) echo "$line$identity=sha256:$(sha256 "$feedback")" ;;
    [A-Z]*=) echo "$line$(rand 24)" ;;
    *) echo "$line" ;;
  esac
done <.env.example
