#!/usr/bin/env bash
# deps.sh installs what Stadion's tests and `make run` need, idempotently:
#   - Debian packages zookeeper (with a JRE), haproxy, nginx-light, and
#     chromium (the web UI's browser tests drive it headless);
#   - Consul, built from its module source into ./bin/consul;
#   - consul-template, installed into ./bin/consul-template.
# Anything already present at the right version is left alone, so a second
# run takes a second or two.
set -euo pipefail

CONSUL_VERSION=v1.14.11
CONSUL_TEMPLATE_VERSION=v0.41.1
APT_PACKAGES=(zookeeper haproxy nginx-light chromium)

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$repo/bin"

cleanup_paths=()
cleanup() {
	local p
	for p in "${cleanup_paths[@]}"; do
		case "$p" in
		/usr/sbin/policy-rc.d) as_root rm -f "$p" ;;
		*) rm -rf "$p" ;;
		esac
	done
}
trap cleanup EXIT

say() { echo "deps: $*"; }
die() {
	echo "deps: error: $*" >&2
	exit 1
}

# as_root runs a command as root, through sudo when we are not root.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

# tool_version prints the first line a tool writes for its version flag. The
# whole output is read before the first line is cut, so that under pipefail
# the tool never dies of SIGPIPE (head closing the pipe early).
tool_version() {
	local out
	out=$("$@" 2>&1) || true
	printf '%s\n' "${out%%$'\n'*}"
}

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

install_apt() {
	command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script supports Debian 12 (bookworm)"
	local missing=() p
	for p in "${APT_PACKAGES[@]}"; do
		installed "$p" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing apt packages: ${missing[*]}"
		# Keep the packages' services (nginx on :80, haproxy) from starting:
		# tests start their own instances on random ports. Only when no
		# policy-rc.d exists, and removed again on exit.
		local policy=/usr/sbin/policy-rc.d
		if [ ! -e "$policy" ]; then
			cleanup_paths+=("$policy")
			as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
		fi
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
			die "apt-get update failed"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
			die "apt-get install ${missing[*]} failed"
	fi
	java -version >/dev/null 2>&1 || die "java -version fails after installing zookeeper: install a JRE (default-jre-headless)"
	[ -n "$(compgen -G '/usr/share/java/zookeeper*.jar')" ] || die "no /usr/share/java/zookeeper*.jar: is the zookeeper package intact?"
	command -v chromium >/dev/null 2>&1 || die "chromium not in PATH after installing it"
}

# build_consul builds Consul from a writable copy of its module source:
# `go install` refuses modules with replace directives, and the replaces
# point at nested directories (api, sdk, proto-public) that the module zip
# does not contain, so they are dropped in favour of the published modules.
build_consul() {
	if [ -x "$bin/consul" ] && [ "$(tool_version "$bin/consul" version)" = "Consul $CONSUL_VERSION" ]; then
		return
	fi
	say "building consul $CONSUL_VERSION (takes a few minutes the first time)"
	local dir tmp
	tmp=$(mktemp -d)
	cleanup_paths+=("$tmp")
	# Outside any module, so that Stadion's go.mod and go.sum stay untouched.
	dir=$(cd "$tmp" && GOFLAGS= GOWORK=off go mod download -json "github.com/hashicorp/consul@$CONSUL_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') || die "go mod download github.com/hashicorp/consul@$CONSUL_VERSION failed"
	[ -n "$dir" ] && [ -d "$dir" ] || die "go mod download gave no source directory for consul $CONSUL_VERSION"
	cp -R "$dir/." "$tmp/consul" && chmod -R u+w "$tmp/consul" || die "copying consul source failed"
	(
		cd "$tmp/consul" &&
			go mod edit \
				-dropreplace github.com/hashicorp/consul/api \
				-dropreplace github.com/hashicorp/consul/sdk \
				-dropreplace github.com/hashicorp/consul/proto-public &&
			mkdir -p "$bin" &&
			GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' \
				-o "$bin/consul.tmp" .
	) || die "building consul $CONSUL_VERSION failed"
	mv "$bin/consul.tmp" "$bin/consul"
	got=$(tool_version "$bin/consul" version)
	[ "$got" = "Consul $CONSUL_VERSION" ] || die "built consul does not report $CONSUL_VERSION: $got"
}

install_consul_template() {
	if [ -x "$bin/consul-template" ] && [[ "$(tool_version "$bin/consul-template" -v)" == "consul-template $CONSUL_TEMPLATE_VERSION "* ]]; then
		return
	fi
	say "installing consul-template $CONSUL_TEMPLATE_VERSION"
	mkdir -p "$bin"
	GOBIN="$bin" GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0 go install "github.com/hashicorp/consul-template@$CONSUL_TEMPLATE_VERSION" ||
		die "go install consul-template $CONSUL_TEMPLATE_VERSION failed"
	[[ "$(tool_version "$bin/consul-template" -v)" == "consul-template $CONSUL_TEMPLATE_VERSION "* ]] ||
		die "installed consul-template does not report $CONSUL_TEMPLATE_VERSION: $("$bin/consul-template" -v 2>&1)"
}

command -v go >/dev/null 2>&1 || die "go not found in PATH"
install_apt
build_consul
install_consul_template
say "ok"
