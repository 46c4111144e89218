module github.com/stadionhq/stadion

go 1.26

require (
	github.com/go-zookeeper/zk v1.0.4
	github.com/google/go-cmp v0.7.0
)
