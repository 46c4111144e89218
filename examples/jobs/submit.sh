#!/bin/sh
# submit.sh JOBS_URL MARATHON_URL STADION_BINARY posts the chain
# prepare -> deploy -> smoke-test to stadion jobs, with this directory's
# absolute path, the binary and the Marathon URL filled in.
#
# Parents must exist before their children, and prepare (R1 with an empty
# start) runs as soon as it is enabled: so prepare is posted disabled,
# then the children, then prepare again, enabled.
set -eu
jobs=$1 marathon=$2 stadion=$3
dir=$(cd "$(dirname "$0")" && pwd)
render() {
	sed -e "s|@EXAMPLES@|$dir|g" -e "s|@MARATHON@|$marathon|g" -e "s|@STADION@|$stadion|g" "$dir/$1"
}
post() {
	curl -fsS -X POST -H 'Content-Type: application/json' --data-binary @- "$jobs/v1/scheduler/$1"
}
render prepare.json | sed 's|"retries": 1,|"retries": 1, "disabled": true,|' | post iso8601
render deploy.json | post dependency
render smoke-test.json | post dependency
render prepare.json | post iso8601
echo "submitted prepare -> deploy -> smoke-test; follow them with:"
echo "  curl $jobs/v1/scheduler/graph/csv"
