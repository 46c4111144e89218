# Stadion's developer entry points. `make test` is what CI runs (.ci/run).

SHELL := bash
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
# Tools installed by `make deps` (consul, consul-template) come first.
export PATH := $(CURDIR)/bin:$(PATH)

.PHONY: all build deps test vet run docker-hosts e2e chaos bench clean

all: build

## build: compile bin/stadion
build:
	go build -ldflags "-X main.version=$(VERSION)" -o bin/stadion ./cmd/stadion

## deps: install ZooKeeper, HAProxy, nginx, Chromium (apt) and consul,
## consul-template (./bin)
deps:
	scripts/deps.sh

## vet: go vet every package
vet:
	go vet ./...

## test: vet, then every test against real ZooKeeper and Consul, then the
## end-to-end pipeline (e2e)
test: deps
	go vet ./...
	go vet -tags e2e ./e2e/...
	go test -count=1 -timeout 20m ./...
	go test -count=1 -timeout 15m -tags e2e ./e2e/...

## run: stadion serve with the built-in Mesos cluster on :8080, state in ./data
run: build
	scripts/run.sh

## docker-hosts: the seed's Docker-hosts demo without Mesos
## (examples/docker-hosts/README.md); examples/docker-hosts/run.sh scale N
## scales it, run.sh down stops it
docker-hosts: deps
	examples/docker-hosts/run.sh up

## e2e: only the end-to-end tests (build tag e2e): the article's pipeline with
## Docker, ZooKeeper, Consul, consul-template and HAProxy (docs/pipeline.md)
e2e: deps
	go test -count=1 -timeout 15m -tags e2e -v ./e2e/...

## chaos: the fault suite's long form (docs/reliability.md): the same fault
## tests as make test, with 50 kill -9 of serve under 20 writers instead of 10
chaos: deps
	STADION_CHAOS=1 go test -count=1 -timeout 30m -v -run 'TestFault' ./cmd/stadion/

## bench: Go benchmarks of every package that has some, then bench/cmd/launchbench
## (10,000 tasks on 50 simulated agents: launch rate with the bbolt and the
## ZooKeeper store, raw limit, GET latency, RSS; leader failover (kill -9) of
## three `stadion serve --zk`; ZooKeeper from `make deps`), which rewrites the
## Results section of bench/README.md, then
## bench/cmd/registratorbench (task → Consul latency, its own section; with
## -source docker, container → Consul latency, another section), then
## bench/cmd/pipelinebench (e2e TestPipeline: healthy → routable through HAProxy
## and failed requests under 200 req/s, its own section)
bench: deps build
	@pkgs=$$(grep -rl --include='*_test.go' '^func Benchmark' . | xargs -r -n1 dirname | sort -u); \
	if [ -z "$$pkgs" ]; then \
		echo "bench: no Go benchmarks yet"; \
	else \
		go test -run '^$$' -bench . -benchmem $$pkgs; \
	fi
	go run ./bench/cmd/launchbench -stadion bin/stadion -readme bench/README.md -zk -failover 3
	go run ./bench/cmd/registratorbench -stadion bin/stadion -consul bin/consul -readme bench/README.md
	go run ./bench/cmd/registratorbench -stadion bin/stadion -consul bin/consul -source docker -readme bench/README.md
	go run ./bench/cmd/pipelinebench -readme bench/README.md

## clean: remove the stadion binary and `make run` data (./bin tools stay)
clean:
	rm -rf bin/stadion data
