package mesos

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// DomainInfo is mesos.v1.DomainInfo: the fault domain (region and zone)
// of a master or an agent, set with their --domain flag. Offers carry the
// agent's, MasterInfo the master's.
type DomainInfo struct {
	FaultDomain *FaultDomain `json:"fault_domain,omitempty"`
}

// FaultDomain is DomainInfo.FaultDomain; both names are required.
type FaultDomain struct {
	Region DomainName `json:"region"`
	Zone   DomainName `json:"zone"`
}

// DomainName is FaultDomain.RegionInfo and ZoneInfo.
type DomainName struct {
	Name string `json:"name"`
}

// ParseDomain reads a --domain value, the JSON form Mesos takes
// ({"fault_domain":{"region":{"name":"r"},"zone":{"name":"z"}}}), and
// returns it re-encoded; "" is no domain (nil). As Mesos, a domain
// without a fault domain, region or zone is refused.
func ParseDomain(text string) (json.RawMessage, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	var d DomainInfo
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("parse domain: %w", err)
	}
	switch {
	case d.FaultDomain == nil:
		return nil, errors.New("parse domain: fault_domain is required")
	case d.FaultDomain.Region.Name == "" || d.FaultDomain.Zone.Name == "":
		return nil, errors.New("parse domain: fault_domain needs a region and a zone name")
	}
	out, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode domain: %w", err)
	}
	return out, nil
}

// DomainRegion returns the region of an encoded DomainInfo, "" when it has
// no fault domain or cannot be read.
func DomainRegion(domain json.RawMessage) string {
	if len(domain) == 0 {
		return ""
	}
	var d DomainInfo
	if json.Unmarshal(domain, &d) != nil || d.FaultDomain == nil {
		return ""
	}
	return d.FaultDomain.Region.Name
}
