package master_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

func multiRole(roles ...string) mesos.FrameworkInfo {
	info := frameworkInfo(mesos.CapabilityMultiRole)
	info.Roles = roles
	return info
}

// offerRole returns the role an offer is allocated to and checks that
// every resource carries the same allocation.
func offerRole(t *testing.T, o mesos.Offer) string {
	t.Helper()
	if o.AllocationInfo == nil {
		t.Fatalf("offer %s without allocation_info", o.ID.Value)
	}
	for _, r := range o.Resources {
		if r.AllocationInfo == nil || r.AllocationInfo.Role != o.AllocationInfo.Role {
			t.Errorf("resource %s allocation %+v, offer's %q", r.Name, r.AllocationInfo, o.AllocationInfo.Role)
		}
	}
	return o.AllocationInfo.Role
}

// TestMultiRoleOffersTakeTurns: a MULTI_ROLE framework's offers are each
// allocated to one of its roles, and a role's refuse filter does not hold
// back the others: after declining an offer of one role for a long time,
// the agent is offered to the other role.
func TestMultiRoleOffersTakeTurns(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	startAgent(t, m, "cpus:2;mem:1024")
	s := subscribe(t, m, multiRole("stadion", "dev"))

	first := s.next(mesos.EventOffers).Offers.Offers[0]
	r1 := offerRole(t, first)
	s.mustCall(mesos.Call{Type: mesos.CallDecline, Decline: &mesos.Decline{
		OfferIDs: []mesos.OfferID{first.ID}, Filters: &mesos.Filters{RefuseSeconds: float(3600)},
	}})
	second := s.next(mesos.EventOffers).Offers.Offers[0]
	r2 := offerRole(t, second)
	if r1 == r2 || (r1 != "stadion" && r1 != "dev") || (r2 != "stadion" && r2 != "dev") {
		t.Fatalf("offers allocated to %q then %q, want both roles in turn", r1, r2)
	}
	// Both roles refused: nothing more.
	s.mustCall(mesos.Call{Type: mesos.CallDecline, Decline: &mesos.Decline{
		OfferIDs: []mesos.OfferID{second.ID}, Filters: &mesos.Filters{RefuseSeconds: float(3600)},
	}})
	s.noEvent(300*time.Millisecond, mesos.EventOffers)
}

// TestLaunchAllocationInfo: LAUNCH resources without allocation_info get
// the offer's (as Mesos injects it), resources allocated to the offer's
// role pass, and resources allocated to another role are not among the
// offered ones (TASK_ERROR).
func TestLaunchAllocationInfo(t *testing.T) {
	tests := []struct {
		name      string
		alloc     string // "" leaves allocation_info out
		wantError bool
	}{
		{name: "injected when missing"},
		{name: "offer's role", alloc: "stadion"},
		{name: "another role", alloc: "other", wantError: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := startMaster(t, fastConfig(t))
			a := startAgent(t, m, "cpus:2;mem:1024")
			s := subscribe(t, m, multiRole("stadion"))
			offer := s.next(mesos.EventOffers).Offers.Offers[0]
			task := commandTask("t1", offer, "cpus:0.5;mem:64")
			if tc.alloc != "" {
				for i := range task.Resources {
					task.Resources[i].AllocationInfo = &mesos.AllocationInfo{Role: tc.alloc}
				}
			}
			s.mustCall(launchCall(offer, task))
			if tc.wantError {
				st := s.update("t1")
				if st.State != mesos.TaskError || !strings.Contains(st.Message, "more resources") {
					t.Fatalf("update %s %q, want TASK_ERROR for resources not offered", st.State, st.Message)
				}
				return
			}
			run := recv(t, a.runs, "run")
			for _, r := range run.Task.Resources {
				if r.AllocationInfo == nil || r.AllocationInfo.Role != "stadion" {
					t.Errorf("task resource %s allocation %+v, want stadion", r.Name, r.AllocationInfo)
				}
			}
		})
	}
}

func domainOf(region, zone string) json.RawMessage {
	raw, err := mesos.ParseDomain(`{"fault_domain":{"region":{"name":"` + region + `"},"zone":{"name":"` + zone + `"}}}`)
	if err != nil {
		panic(err)
	}
	return raw
}

// TestRegionAwareOffers: an agent in another region than the master's is
// offered only to REGION_AWARE frameworks; offers carry the agent's
// domain and SUBSCRIBED the master's.
func TestRegionAwareOffers(t *testing.T) {
	tests := []struct {
		name        string
		agentRegion string
		regionAware bool
		wantOffer   bool
	}{
		{name: "local agent", agentRegion: "eu", wantOffer: true},
		{name: "remote agent, not region aware", agentRegion: "us"},
		{name: "remote agent, region aware", agentRegion: "us", regionAware: true, wantOffer: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fastConfig(t)
			cfg.Domain = domainOf("eu", "eu-1")
			m := startMaster(t, cfg)
			startAgentIn(t, m, "cpus:2;mem:1024", domainOf(tc.agentRegion, tc.agentRegion+"-1"))
			info := frameworkInfo()
			if tc.regionAware {
				info = frameworkInfo(mesos.CapabilityRegionAware)
			}
			call := mesos.Call{Type: mesos.CallSubscribe, Subscribe: &mesos.Subscribe{FrameworkInfo: info}}
			s := subscribeRaw(t, m, call)
			sub := s.next(mesos.EventSubscribed).Subscribed
			if got := mesos.DomainRegion(sub.MasterInfo.Domain); got != "eu" {
				t.Errorf("master_info region %q, want eu", got)
			}
			if !tc.wantOffer {
				s.noEvent(300*time.Millisecond, mesos.EventOffers)
				return
			}
			o := s.next(mesos.EventOffers).Offers.Offers[0]
			if got := mesos.DomainRegion(o.Domain); got != tc.agentRegion {
				t.Errorf("offer region %q, want %q", got, tc.agentRegion)
			}
		})
	}
}

// TestAgentDomainNeedsMasterDomain: as Mesos, an agent with a domain does
// not register with a master without one.
func TestAgentDomainNeedsMasterDomain(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	reg := cluster.Register{Hostname: "h", URL: "http://127.0.0.1:1", Token: cluster.NewToken(), Domain: domainOf("eu", "eu-1")}
	err := cluster.Post(context.Background(), http.DefaultClient, m.URL(), cluster.PathRegister, "", reg, nil)
	if err == nil || !strings.Contains(err.Error(), "master has none") {
		t.Fatalf("register: %v, want refused", err)
	}
}
