#!/usr/bin/env bash
# run.sh starts the built-in Mesos master and one agent in the foreground
# (`make run`). Ctrl-C stops both; so does either one exiting.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
mkdir -p data/master data/agent

pids=()
stop() {
	trap - INT TERM EXIT
	kill "${pids[@]}" 2>/dev/null || true
	wait || true
}
trap stop INT TERM EXIT

bin/stadion mesos master --ip 127.0.0.1 --port 5050 --work_dir ./data/master &
pids+=($!)
bin/stadion mesos agent --master 127.0.0.1:5050 --ip 127.0.0.1 --port 5051 --work_dir ./data/agent &
pids+=($!)

echo "run: starting the built-in Mesos master and agent; look at http://127.0.0.1:5050/master/state (Ctrl-C stops both)"
# Whichever ends first (or Ctrl-C) ends both.
status=0
wait -n || status=$?
exit "$status"
