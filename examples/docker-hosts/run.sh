#!/bin/sh
# The seed's Docker-hosts demo without Mesos (examples/docker-hosts/README.md):
# web containers carrying SERVICE_* settings, `stadion registrator` in Docker
# mode registering them in Consul, consul-template rendering nginx from
# templates/nginx.conf.ctmpl. Scale by starting and stopping containers.
#
#   run.sh up        build, start Consul, the registrator, consul-template,
#                    nginx and $WEB_COUNT (default 3) web containers
#   run.sh scale N   start or stop web containers until N run
#   run.sh status    the web containers and what Consul routes
#   run.sh down      stop everything started by up, remove the containers and
#                    the image
#
# Settings (environment): STATE_DIR (default /tmp/stadion-docker-hosts),
# RUN_ID (names the containers and the image; default demo), LB_ADDRESS
# (where nginx listens, default 127.0.0.1), CONSUL_HTTP_PORT (8500),
# CONSUL_SERF_LAN_PORT (8301), CONSUL_SERF_WAN_PORT (8302),
# CONSUL_SERVER_PORT (8300), WEB_PORT (the listener of the web service,
# default 8000). Needs docker, go, nginx, consul and consul-template (make
# deps puts the last two in ./bin).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PATH="$root/bin:$PATH"
STATE_DIR=${STATE_DIR:-/tmp/stadion-docker-hosts}
RUN_ID=${RUN_ID:-demo}
LB_ADDRESS=${LB_ADDRESS:-127.0.0.1}
CONSUL_HTTP_PORT=${CONSUL_HTTP_PORT:-8500}
CONSUL_SERF_LAN_PORT=${CONSUL_SERF_LAN_PORT:-8301}
CONSUL_SERF_WAN_PORT=${CONSUL_SERF_WAN_PORT:-8302}
CONSUL_SERVER_PORT=${CONSUL_SERVER_PORT:-8300}
WEB_PORT=${WEB_PORT:-8000}
WEB_COUNT=${WEB_COUNT:-3}
image="stadion-docker-hosts/web:$RUN_ID"
consul_addr="127.0.0.1:$CONSUL_HTTP_PORT"

log() { echo "run.sh: $*" >&2; }

# start NAME CMD...: runs a process in the background, its output in
# $STATE_DIR/NAME.log and its pid in $STATE_DIR/NAME.pid.
start() {
	name=$1
	shift
	"$@" >"$STATE_DIR/$name.log" 2>&1 &
	echo $! >"$STATE_DIR/$name.pid"
}

# wait_for WHAT CMD...: retries CMD for 60 s.
wait_for() {
	what=$1
	shift
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -ge 300 ]; then
			log "timed out waiting for $what"
			exit 1
		fi
		sleep 0.2
	done
}

build() {
	mkdir -p "$STATE_DIR/ctx"
	(cd "$root" && CGO_ENABLED=0 go build -o "$STATE_DIR/stadion" ./cmd/stadion)
	(cd "$root" && CGO_ENABLED=0 go build -o "$STATE_DIR/ctx/test-server" ./examples/test-server)
	docker build -q -t "$image" -f "$here/Dockerfile" "$STATE_DIR/ctx" >/dev/null
}

# web containers of this run, newest first.
webs() {
	docker ps -q --filter "label=stadion.example=$RUN_ID"
}

start_web() {
	name="$RUN_ID-web-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
	# The seed's settings: the service of port 80 is "http" (the port's
	# own name wins over SERVICE_NAME); the tags put it in production
	# behind nginx's :$WEB_PORT (templates/README.md).
	docker run -d --name "$name" --label "stadion.example=$RUN_ID" \
		-e SERVICE_NAME=web -e SERVICE_80_NAME=http \
		-e "SERVICE_TAGS=backend,production,internal-listen-http-$WEB_PORT" \
		-e SERVICE_CHECK_HTTP=/healthcheck -e SERVICE_CHECK_INTERVAL=1s \
		"$image" >/dev/null
	log "started $name"
}

scale() {
	want=$1
	have=$(webs | wc -l)
	while [ "$have" -lt "$want" ]; do
		start_web
		have=$((have + 1))
	done
	while [ "$have" -gt "$want" ]; do
		id=$(webs | head -n 1)
		docker stop -t 5 "$id" >/dev/null
		docker rm "$id" >/dev/null
		log "stopped $id"
		have=$((have - 1))
	done
}

up() {
	mkdir -p "$STATE_DIR/nginx/logs" "$STATE_DIR/nginx/temp"
	build
	start consul consul agent -dev -bind 127.0.0.1 -client 127.0.0.1 -http-port "$CONSUL_HTTP_PORT" \
		-dns-port -1 -grpc-port -1 -serf-lan-port "$CONSUL_SERF_LAN_PORT" -serf-wan-port "$CONSUL_SERF_WAN_PORT" \
		-server-port "$CONSUL_SERVER_PORT"
	wait_for consul sh -c "curl -sf http://$consul_addr/v1/status/leader | grep -q :"
	# gliderlabs/registrator's command line, as the seed's compose file
	# runs it: the containers' own addresses and ports.
	start registrator "$STATE_DIR/stadion" registrator -internal -resync 30 "consul://$consul_addr"

	export STADION_LB_ADDRESS="$LB_ADDRESS" STADION_LB_CONSUL="$consul_addr"
	cfg="$STATE_DIR/nginx/nginx.conf"
	consul-template -once -consul-addr "$consul_addr" -template "$root/templates/nginx.conf.ctmpl:$cfg"
	start nginx nginx -p "$STATE_DIR/nginx/" -c "$cfg" -g 'daemon off;'
	wait_for nginx test -s "$STATE_DIR/nginx/nginx.pid"
	cat >"$STATE_DIR/consul-template.hcl" <<HCL
consul {
  address = "$consul_addr"
}
template {
  source      = "$root/templates/nginx.conf.ctmpl"
  destination = "$cfg"
  wait {
    min = "100ms"
    max = "500ms"
  }
  command = ["sh", "-c", "nginx -t -q -p $STATE_DIR/nginx/ -c $cfg && nginx -p $STATE_DIR/nginx/ -c $cfg -s reload"]
}
HCL
	start consul-template consul-template -config "$STATE_DIR/consul-template.hcl"
	scale "$WEB_COUNT"
	wait_for "the web service in nginx" sh -c "curl -sf http://$LB_ADDRESS:$WEB_PORT/ | grep -q HOSTNAME="
	log "up: curl http://$LB_ADDRESS:$WEB_PORT/ (a web container answers with its environment); run.sh scale N; run.sh down"
}

status() {
	docker ps --filter "label=stadion.example=$RUN_ID" --format '{{.Names}} {{.Status}}'
	echo "passing instances of http in Consul:"
	curl -s "http://$consul_addr/v1/health/service/http?passing" | grep -o '"ID":"[^"]*:80"' | cut -d'"' -f4
}

down() {
	for name in consul-template nginx registrator consul; do
		if [ -f "$STATE_DIR/$name.pid" ]; then
			kill "$(cat "$STATE_DIR/$name.pid")" 2>/dev/null || true
			rm -f "$STATE_DIR/$name.pid"
		fi
	done
	ids=$(docker ps -aq --filter "label=stadion.example=$RUN_ID")
	if [ -n "$ids" ]; then
		docker rm -f $ids >/dev/null
	fi
	docker rmi -f "$image" >/dev/null 2>&1 || true
	log "down"
}

case "${1:-}" in
up) up ;;
scale) scale "${2:?run.sh scale N}" ;;
status) status ;;
down) down ;;
*)
	sed -n '2,21p' "$0" >&2
	exit 2
	;;
esac
