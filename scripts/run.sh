#!/usr/bin/env bash
# run.sh starts `stadion serve` with the built-in Mesos cluster in the
# foreground (`make run`): the Marathon API on 127.0.0.1:8080 (--master local
# listens on loopback only unless --http_address says otherwise; see
# docs/security.md), state under ./data.
# Ctrl-C stops it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
mkdir -p data

cat <<'MSG'
run: starting stadion serve --master local on http://127.0.0.1:8080 (state in ./data, Ctrl-C stops it)
run: the web UI is at http://127.0.0.1:8080/ui/
run: deploy the example app from another terminal:
       curl -X POST -H 'Content-Type: application/json' --data @examples/hello.json http://127.0.0.1:8080/v2/apps
       curl http://127.0.0.1:8080/v2/apps/hello
MSG
exec bin/stadion serve --master local --http_port 8080 --data_dir ./data
