package registrator

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/hashicorp/consul/api"
)

var _ Registry = (*kvRegistry)(nil)

// kvRegistry writes the Docker source's services as Consul KV keys, as
// gliderlabs/registrator's consulkv:// does: <prefix>/<name>/<id> =
// "ip:port". The keys it owns carry its flags (a digest of owner and host
// name), so that it never changes a key someone else wrote.
type kvRegistry struct {
	c      *api.Client
	prefix string
	flags  uint64
	log    *slog.Logger
}

// kvFlags are the KV flags that mark the keys of owner on host.
func kvFlags(owner, host string) uint64 {
	h := fnv.New64a()
	h.Write([]byte("stadion-registrator\x00" + owner + "\x00" + host))
	return h.Sum64()
}

// kvDesired turns wanted services into wanted keys: the id is the key
// under the prefix, "<name>/<id>", and the hash is the value.
func kvDesired(d Desired) Desired {
	out := Desired{Skipped: d.Skipped}
	for _, s := range d.Services {
		out.Services = append(out.Services, Service{
			ID:      s.Name + "/" + s.ID,
			Name:    s.Name,
			Address: s.Address,
			Port:    s.Port,
			Meta: map[string]string{
				MetaHash:          net.JoinHostPort(s.Address, strconv.Itoa(s.Port)),
				MetaContainerID:   s.Meta[MetaContainerID],
				MetaContainerName: s.Meta[MetaContainerName],
			},
		})
	}
	sortServices(out.Services)
	return out
}

func (k *kvRegistry) List(ctx context.Context) (Current, error) {
	pairs, _, err := k.c.KV().List(k.prefix+"/", (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return Current{}, fmt.Errorf("list kv %s: %w", k.prefix, err)
	}
	var cur Current
	for _, p := range pairs {
		key := strings.TrimPrefix(p.Key, k.prefix+"/")
		name, _, ok := strings.Cut(key, "/")
		if p.Flags != k.flags || !ok {
			continue
		}
		cur.Services = append(cur.Services, Registered{ID: key, Name: name, Meta: map[string]string{MetaHash: string(p.Value)}})
	}
	return cur, nil
}

func (k *kvRegistry) Apply(ctx context.Context, p Plan) error {
	w := (&api.WriteOptions{}).WithContext(ctx)
	errs := forEach(p.Register, func(s Service) error {
		pair := &api.KVPair{Key: k.prefix + "/" + s.ID, Value: []byte(s.Meta[MetaHash]), Flags: k.flags}
		if _, err := k.c.KV().Put(pair, w); err != nil {
			return fmt.Errorf("put kv %s: %w", pair.Key, err)
		}
		k.log.Info("registered service", "key", pair.Key, "address", s.Address, "port", s.Port, "container_name", s.Meta[MetaContainerName])
		return nil
	})
	errs = append(errs, forEach(p.Deregister, func(r Registered) error {
		if _, err := k.c.KV().Delete(k.prefix+"/"+r.ID, w); err != nil {
			return fmt.Errorf("delete kv %s/%s: %w", k.prefix, r.ID, err)
		}
		k.log.Info("deregistered service", "key", k.prefix+"/"+r.ID)
		return nil
	})...)
	return errors.Join(errs...)
}

// Refresh does nothing: keys have no checks.
func (k *kvRegistry) Refresh(context.Context, []StatusUpdate) error { return nil }

// kvWatch watches the keys under the prefix by index.
func kvWatch(c *api.Client, prefix string) blockingQuery {
	return func(ctx context.Context, index string) (string, error) {
		wait, _ := strconv.ParseUint(index, 10, 64)
		q := (&api.QueryOptions{WaitIndex: wait, WaitTime: watchWait}).WithContext(ctx)
		_, meta, err := c.KV().Keys(prefix+"/", "", q)
		if err != nil {
			return "", fmt.Errorf("watch kv %s: %w", prefix, err)
		}
		return strconv.FormatUint(meta.LastIndex, 10), nil
	}
}
