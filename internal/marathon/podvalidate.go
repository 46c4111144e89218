package marathon

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
)

// Pod validation messages (api/v2/validation/PodsValidation.scala,
// NetworkValidation.scala, SchedulingValidation.scala). The typo in
// msgEndpointNamesUnique is Marathon's.
const (
	msgEndpointNamesUnique   = "endpoint names nust be unique across all containers"
	msgContainerPortsUnique  = "container ports must be unique across all containers"
	msgHostPortsUnique       = "host ports must be unique across all containers"
	msgVolumeNamesUnique     = "volume names must be unique"
	msgContainerNamesUnique  = "container names must be unique"
	msgVolumeUnreferenced    = "volume must be referenced by at least one container"
	msgVolumeMountMissing    = "Referenced Volume in VolumeMount should exist"
	msgSecretVolume          = "volume.secret must refer to an existing secret"
	msgPullConfigSecret      = "pullConfig.secret must refer to an existing secret"
	msgContainerPortHost     = "is not allowed when using host-mode networking"
	msgContainerPortRequired = "is required when using container-mode networking"
	msgDuplicateProtocols    = "Duplicate protocols within the same endpoint are not allowed"
	msgNetworkNameSingle     = "networkNames must be a single item list when hostPort is specified and more than 1 container network is defined"
	msgHostNetworkNamed      = "Host networks may not have names or labels"
	msgBridgeNetworkNamed    = "Bridge networks may not have names"
	msgDuplicateNetworks     = "Duplicate networks are not allowed"
	msgNetworkCombination    = "May specify a single host network, single bridge network, or else 1-to-n container networks"
	msgNetworkNameRequired   = "Network name must be specified when container network is selected."
	msgOneHealthCheckKind    = "Only one of http, tcp, or command may be specified"
	msgInContainerEndpoints  = "contained in the container endpoints"
	msgNotFixedScaling       = "Not a fixed scaling policy"
	msgResidentUnreachable   = "unreachableStrategy must be disabled for pods with persistent volumes"
	msgLimitsLegacyCgroups   = "resourceLimits cannot be defined if legacySharedCgroups is enabled"
	msgConstraintField       = "missing field for constraint declaration"
	msgConstraintOperator    = "operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS"
	msgUniqueNoValue         = "UNIQUE does not accept a value"
	msgGroupByInt            = "GROUP BY must define an integer value or else no value at all"
	msgMaxPerInt             = "MAX_PER requires an integer value"
	msgLikeRegexp            = "LIKE and UNLIKE require a non-empty, regular expression value"
	msgBadRegexp             = "is not a valid regular expression"
	msgIsText                = "IS only supports Mesos text and float values (see http://mesos.apache.org/documentation/latest/attributes-resources/)"
	msgShellOrArgv           = "must give exactly one of shell or argv"
	msgNotEmpty              = "must not be empty"
	msgImageKind             = "is not one of (DOCKER)"
	msgAppContainerName      = "must not be equal to _app"
)

// namePattern is types/stringTypes.raml Name: container, endpoint, volume
// and network names.
const namePattern = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`

var (
	nameRegexp        = regexp.MustCompile(namePattern)
	isValueRegexp     = regexp.MustCompile(`^[a-zA-Z0-9_/.-]*$`)
	podOperatorValues = []Operator{OpUnique, OpCluster, OpGroupBy, OpLike, OpUnlike, OpMaxPer, OpIs}
)

// DecodePod decodes a POST or PUT /v2/pods body with DecodeApp's
// strictness: type errors give a 422 "Invalid JSON" with Play's codes, a
// missing id or containers gives "error.path.missing". Absent fields get
// the RAML defaults.
func DecodePod(data []byte) (Pod, error) {
	var p Pod
	err := decodeStrict(data, &p, nil)
	return p, err
}

// ParsePod runs DecodePod and AdmitPod: the admission of a pod body.
func ParsePod(data []byte, opts NormalizeOptions) (Pod, error) {
	p, err := DecodePod(data)
	if err != nil {
		return Pod{}, err
	}
	return AdmitPod(p, opts)
}

// AdmitPod normalises and validates a decoded pod, reporting every
// violation in one 422 *Error.
func AdmitPod(p Pod, opts NormalizeOptions) (Pod, error) {
	var r reporter
	validatePodID(p.ID, &r)
	if !r.empty() {
		return p, NotValid(r.details()...)
	}
	p = NormalizePod(p, opts)
	validatePod(p, opts, &r)
	if r.empty() {
		return p, nil
	}
	return p, NotValid(r.details()...)
}

// ValidatePod checks a normalised pod against Marathon's rules.
func ValidatePod(p Pod, opts NormalizeOptions) error {
	var r reporter
	validatePodID(p.ID, &r)
	validatePod(p, opts, &r)
	if r.empty() {
		return nil
	}
	return NotValid(r.details()...)
}

// NormalizePod applies Marathon's PodNormalization: the id is made
// canonical; unnamed container networks take opts.DefaultNetworkName;
// host and bridge endpoints without a hostPort get 0; the role defaults
// (to opts.Roles(id).Default when set, as an app's);
// a resident pod (one with a persistent volume) that kept the default
// upgrade and unreachable strategies gets {0.5, 0} and "disabled"; empty
// enum values (pods built in Go) get their defaults. Version is left to
// the caller (the server stamps it).
func NormalizePod(p Pod, opts NormalizeOptions) Pod {
	p.ID = p.ID.Resolve(RootID)
	p.Networks = append([]PodNetwork(nil), p.Networks...)
	for i, n := range p.Networks {
		if n.Mode == "" {
			p.Networks[i].Mode = NetworkContainer
		}
		if p.Networks[i].Mode == NetworkContainer && n.Name == "" {
			p.Networks[i].Name = opts.DefaultNetworkName
		}
	}
	hostOrBridge := !p.hasContainerNetwork()
	p.Containers = append([]PodContainer(nil), p.Containers...)
	for ci := range p.Containers {
		c := &p.Containers[ci]
		c.Endpoints = append([]Endpoint(nil), c.Endpoints...)
		for ei := range c.Endpoints {
			if hostOrBridge && c.Endpoints[ei].HostPort == nil {
				zero := 0
				c.Endpoints[ei].HostPort = &zero
			}
		}
	}
	if p.Role == "" {
		p.Role = opts.DefaultRole
		if opts.Roles != nil {
			p.Role = opts.Roles(p.ID).Default
		}
		if p.Role == "" {
			p.Role = DefaultRole
		}
	}
	if p.Scaling.Kind == "" {
		p.Scaling.Kind = ScalingFixed
	}
	if p.Scheduling.KillSelection == "" {
		p.Scheduling.KillSelection = YoungestFirst
	}
	if p.IsResident() {
		if p.Scheduling.Upgrade == DefaultPodUpgrade() {
			p.Scheduling.Upgrade = PodUpgrade{MinimumHealthCapacity: 0.5, MaximumOverCapacity: 0}
		}
		if p.Scheduling.UnreachableStrategy == DefaultUnreachableStrategy() {
			p.Scheduling.UnreachableStrategy = UnreachableStrategy{Disabled: true}
		}
	}
	return p
}

// IsResident reports whether the pod has a persistent volume.
func (p Pod) IsResident() bool {
	for _, v := range p.Volumes {
		if len(v.Persistent) > 0 {
			return true
		}
	}
	return false
}

func (p Pod) hasContainerNetwork() bool {
	for _, n := range p.Networks {
		if n.Mode == NetworkContainer {
			return true
		}
	}
	return false
}

// IsHostNetworking reports whether the pod declares the host network.
func (p Pod) IsHostNetworking() bool {
	return len(p.Networks) == 1 && p.Networks[0].Mode == NetworkHost
}

// IsBridgeNetworking reports whether the pod uses the bridge network.
func (p Pod) IsBridgeNetworking() bool {
	return len(p.Networks) == 1 && p.Networks[0].Mode == NetworkBridge
}

func validatePodID(id PathID, r *reporter) {
	if errs := idErrors(id, false, true); len(errs) > 0 {
		r.add("/id", errs...)
	}
}

func validatePod(p Pod, opts NormalizeOptions, r *reporter) {
	validatePodLimits(p, opts, r)
	validatePodEnv(p.Environment, p.Secrets, "/environment", r)
	for name, sec := range p.Secrets {
		if _, err := ParseSecretSource(sec.Source); err != nil {
			r.add("/secrets/"+name+"/source", err.Error())
		}
	}
	validatePodVolumes(p, r)
	if len(p.Containers) == 0 {
		r.add("/containers", msgNotEmpty)
	}
	names := map[string]bool{}
	for i, c := range p.Containers {
		if names[c.Name] {
			r.add("/containers", msgContainerNamesUnique)
		}
		names[c.Name] = true
		validatePodContainer(p, c, fmt.Sprintf("/containers(%d)", i), r)
	}
	validatePodNetworks(p.Networks, r)
	validatePodScheduling(p, r)
	validRole(p.ID, p.Role, "/role", opts, r)
	validateEndpointUniqueness(p, r)
	if p.Scaling.Kind != ScalingFixed {
		r.add("/scaling", msgNotFixedScaling)
	}
	minInt(r, "/scaling/instances", p.Scaling.Instances, 0)
	validatePodLinux(p.LinuxInfo, "/linuxInfo", r)
	// types/resources.raml ExecutorResources minimums.
	validateFloatMin(r, "/executorResources/cpus", p.ExecutorResources.Cpus, DefaultExecutorCpus)
	validateFloatMin(r, "/executorResources/mem", p.ExecutorResources.Mem, DefaultExecutorMem)
	validateFloatMin(r, "/executorResources/disk", p.ExecutorResources.Disk, DefaultExecutorDisk)
}

func validatePodLimits(p Pod, opts NormalizeOptions, r *reporter) {
	if p.Scaling.Instances > opts.maxInstances() {
		r.add("/scaling/instances", msgMaxInstances(opts.maxInstances()))
	}
	if len(p.Labels) > MaxLabels {
		r.add("/labels", msgLabels)
	}
	n := 0
	for k, v := range p.Labels {
		n += len(k) + len(v)
	}
	if n > MaxLabelBytes {
		r.add("/labels", msgLabelB)
	}
	if len(p.Containers) > MaxPodContainers {
		r.add("/containers", msgPodContainers)
	}
}

func validatePodEnv(env map[string]EnvVar, secrets map[string]Secret, path string, r *reporter) {
	if len(env) > MaxEnv {
		r.add(path, msgEnv)
	}
	n := 0
	for name, v := range env {
		n += len(name) + len(v.Value) + len(v.Secret)
		if name == "" {
			r.add(path, "environment variable names must not be empty")
		}
		if v.IsSecret() {
			if _, ok := secrets[v.Secret]; !ok {
				r.add(path+"/"+name, fmt.Sprintf("references an undefined secret named '%s'", v.Secret))
			}
		}
	}
	if n > MaxEnvBytes {
		r.add(path, msgEnvB)
	}
}

func validatePodVolumes(p Pod, r *reporter) {
	seen := map[string]bool{}
	for i, v := range p.Volumes {
		vp := fmt.Sprintf("/volumes(%d)", i)
		if seen[v.Name] {
			r.add("/volumes", msgVolumeNamesUnique)
		}
		seen[v.Name] = true
		if !p.mountsVolume(v.Name) {
			r.add(vp, msgVolumeUnreferenced)
		}
		if v.Secret != "" {
			if _, ok := p.Secrets[v.Secret]; !ok {
				r.add(vp+"/secret", msgSecretVolume)
			}
		}
		if v.Name == "" {
			r.add(vp+"/name", msgNotEmpty)
		}
	}
}

func (p Pod) mountsVolume(name string) bool {
	for _, c := range p.Containers {
		for _, m := range c.VolumeMounts {
			if m.Name == name {
				return true
			}
		}
	}
	return false
}

func (p Pod) volumeNamed(name string) bool {
	for _, v := range p.Volumes {
		if v.Name == name {
			return true
		}
	}
	return false
}

func validateName(r *reporter, path, name string) {
	if len(name) < 1 || len(name) > 63 {
		r.add(path, "must be between 1 and 63 characters long")
	}
	if !nameRegexp.MatchString(name) {
		r.add(path, "must fully match regular expression '"+namePattern+"'")
	}
}

func validateFloatMin(r *reporter, path string, v, limit float64) {
	if v < limit || math.IsNaN(v) || math.IsInf(v, 0) {
		r.add(path, below(limit))
	}
}

func validatePodContainer(p Pod, c PodContainer, cp string, r *reporter) {
	if c.Name == appContainer {
		r.add(cp+"/name", msgAppContainerName)
	} else {
		validateName(r, cp+"/name", c.Name)
	}
	if !podTaskIDFits(p.ID, c.Name) {
		r.add(cp+"/name", msgPodTaskID)
	}
	validateFloatMin(r, cp+"/resources/cpus", c.Resources.Cpus, 0)
	validateFloatMin(r, cp+"/resources/mem", c.Resources.Mem, 0)
	validateFloatMin(r, cp+"/resources/disk", c.Resources.Disk, 0)
	minInt(r, cp+"/resources/gpus", c.Resources.Gpus, 0)
	validateResourceLimits(p, c, cp, r)
	if c.Exec != nil {
		validateMesosCommand(c.Exec.Command, cp+"/exec/command", r)
	}
	for i, e := range c.Endpoints {
		validateEndpoint(p, e, fmt.Sprintf("%s/endpoints(%d)", cp, i), r)
	}
	if im := c.Image; im != nil {
		if im.Kind != ImageDocker {
			r.add(cp+"/image/kind", msgImageKind)
		}
		if strings.TrimSpace(im.ID) == "" {
			r.add(cp+"/image/id", msgNotEmpty)
		}
		if im.PullConfig != nil {
			if _, ok := p.Secrets[im.PullConfig.Secret]; !ok {
				r.add(cp+"/image/pullConfig", msgPullConfigSecret)
			}
		}
	}
	validatePodEnv(c.Environment, p.Secrets, cp+"/environment", r)
	if c.HealthCheck != nil {
		validatePodHealthCheck(*c.HealthCheck, c.Endpoints, cp+"/healthCheck", r)
	}
	for i, m := range c.VolumeMounts {
		mp := fmt.Sprintf("%s/volumeMounts(%d)", cp, i)
		validateName(r, mp+"/name", m.Name)
		if !p.volumeNamed(m.Name) {
			r.add(mp+"/name", msgVolumeMountMissing)
		}
		if len(m.MountPath) < 1 || len(m.MountPath) > 1024 {
			r.add(mp+"/mountPath", "must be between 1 and 1024 characters long")
		}
	}
	for i, a := range c.Artifacts {
		ap := fmt.Sprintf("%s/artifacts(%d)", cp, i)
		if len(a.URI) < 1 || len(a.URI) > 1024 {
			r.add(ap+"/uri", "must be between 1 and 1024 characters long")
		}
		if len(a.DestPath) > 1024 {
			r.add(ap+"/destPath", "must be between 1 and 1024 characters long")
		}
	}
	if c.Lifecycle != nil && c.Lifecycle.KillGracePeriodSeconds != nil {
		validateFloatMin(r, cp+"/lifecycle/killGracePeriodSeconds", *c.Lifecycle.KillGracePeriodSeconds, 0)
	}
	validatePodLinux(c.LinuxInfo, cp+"/linuxInfo", r)
}

func validateResourceLimits(p Pod, c PodContainer, cp string, r *reporter) {
	l := c.ResourceLimits
	if l == nil {
		return
	}
	if p.LegacySharedCgroups {
		r.add(cp+"/resourceLimits", msgLimitsLegacyCgroups)
	}
	check := func(path string, lim *ResourceLimit, req float64) {
		if lim != nil && !lim.Unlimited && lim.Value < req {
			r.add(path, fmt.Sprintf("resource limit must be greater than or equal to requested resource (%s)", ScalaDouble(req)))
		}
	}
	check(cp+"/resourceLimits/cpus", l.Cpus, c.Resources.Cpus)
	check(cp+"/resourceLimits/mem", l.Mem, c.Resources.Mem)
}

func validateMesosCommand(c MesosCommand, path string, r *reporter) {
	if (c.Shell == "") == (len(c.Argv) == 0) {
		r.add(path, msgShellOrArgv)
	}
}

func validateEndpoint(p Pod, e Endpoint, ep string, r *reporter) {
	validateName(r, ep+"/name", e.Name)
	var host, container int
	declared := map[string]bool{}
	for _, n := range p.Networks {
		switch n.Mode {
		case NetworkHost:
			host++
		case NetworkContainer:
			container++
		}
		if n.Name != "" {
			declared[n.Name] = true
		}
	}
	for i, name := range e.NetworkNames {
		if !declared[name] {
			r.add(fmt.Sprintf("%s/networkNames(%d)", ep, i), "is not one of ("+strings.Join(sortedKeys(declared), ",")+")")
		}
	}
	if host > 0 && e.ContainerPort != nil {
		r.add(ep+"/containerPort", msgContainerPortHost)
	}
	if container > 0 && e.ContainerPort == nil {
		r.add(ep+"/containerPort", msgContainerPortRequired)
	}
	if container > 1 && e.HostPort != nil && len(e.NetworkNames) != 1 {
		r.add(ep, msgNetworkNameSingle)
	}
	if e.ContainerPort != nil {
		validatePort(r, ep+"/containerPort", *e.ContainerPort)
	}
	if e.HostPort != nil {
		validatePort(r, ep+"/hostPort", *e.HostPort)
	}
	seen := map[string]bool{}
	for _, proto := range e.Protocol {
		if seen[proto] {
			r.add(ep+"/protocol", msgDuplicateProtocols)
		}
		seen[proto] = true
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func validatePodHealthCheck(hc PodHealthCheck, endpoints []Endpoint, hp string, r *reporter) {
	minInt(r, hp+"/gracePeriodSeconds", hc.GracePeriodSeconds, 0)
	minInt(r, hp+"/intervalSeconds", hc.IntervalSeconds, 0)
	if hc.TimeoutSeconds >= hc.IntervalSeconds {
		r.add(hp+"/timeoutSeconds", fmt.Sprintf("got %d, expected less than %d", hc.TimeoutSeconds, hc.IntervalSeconds))
	}
	minInt(r, hp+"/maxConsecutiveFailures", hc.MaxConsecutiveFailures, 0)
	minInt(r, hp+"/timeoutSeconds", hc.TimeoutSeconds, 0)
	minInt(r, hp+"/delaySeconds", hc.DelaySeconds, 0)
	kinds := 0
	known := func(name string) bool {
		for _, e := range endpoints {
			if e.Name == name {
				return true
			}
		}
		return false
	}
	if hc.HTTP != nil {
		kinds++
		validateName(r, hp+"/http/endpoint", hc.HTTP.Endpoint)
		if !known(hc.HTTP.Endpoint) {
			r.add(hp+"/http/endpoint", msgInContainerEndpoints)
		}
		if len(hc.HTTP.Path) > 1024 {
			r.add(hp+"/http/path", "must be between 1 and 1024 characters long")
		}
	}
	if hc.TCP != nil {
		kinds++
		validateName(r, hp+"/tcp/endpoint", hc.TCP.Endpoint)
		if !known(hc.TCP.Endpoint) {
			r.add(hp+"/tcp/endpoint", msgInContainerEndpoints)
		}
	}
	if hc.Exec != nil {
		kinds++
		validateMesosCommand(hc.Exec.Command, hp+"/exec/command", r)
	}
	if kinds != 1 {
		r.add(hp, msgOneHealthCheckKind)
	}
}

func validatePodNetworks(nets []PodNetwork, r *reporter) {
	counts := map[NetworkMode]int{}
	names := map[string]bool{}
	for i, n := range nets {
		np := fmt.Sprintf("/networks(%d)", i)
		counts[n.Mode]++
		switch n.Mode {
		case NetworkHost:
			if n.Name != "" || len(n.Labels) > 0 {
				r.add("/networks", msgHostNetworkNamed)
			}
		case NetworkBridge:
			if n.Name != "" {
				r.add("/networks", msgBridgeNetworkNamed)
			}
		case NetworkContainer:
			if n.Name == "" {
				r.add("/networks", msgNetworkNameRequired)
			}
		default:
			r.add(np+"/mode", "is not one of ("+strings.Join(NetworkMode("").enumValues(), ",")+")")
		}
		if n.Name != "" {
			if names[n.Name] {
				r.add("/networks", msgDuplicateNetworks)
			}
			names[n.Name] = true
			validateName(r, np+"/name", n.Name)
		}
	}
	h, b, c := counts[NetworkHost], counts[NetworkBridge], counts[NetworkContainer]
	if !((h <= 1 && b == 0 && c == 0) || (h == 0 && b <= 1 && c == 0) || (h == 0 && b == 0 && c > 0)) {
		r.add("/networks", msgNetworkCombination)
	}
}

func validatePodScheduling(p Pod, r *reporter) {
	s := p.Scheduling
	validateFloatMin(r, "/scheduling/backoff/backoff", s.Backoff.Backoff, 0)
	validateFloatMin(r, "/scheduling/backoff/backoffFactor", s.Backoff.BackoffFactor, 0)
	validateFloatMin(r, "/scheduling/backoff/maxLaunchDelay", s.Backoff.MaxLaunchDelay, 0)
	validateFraction(r, "/scheduling/upgrade/minimumHealthCapacity", s.Upgrade.MinimumHealthCapacity)
	validateFraction(r, "/scheduling/upgrade/maximumOverCapacity", s.Upgrade.MaximumOverCapacity)
	for i, c := range s.Placement.Constraints {
		validatePodConstraint(c, fmt.Sprintf("/scheduling/placement/constraints(%d)", i), r)
	}
	validateAcceptedRoles(p, r)
	if s.KillSelection != YoungestFirst && s.KillSelection != OldestFirst {
		r.add("/scheduling/killSelection", "is not one of ("+strings.Join(s.KillSelection.enumValues(), ",")+")")
	}
	if u := s.UnreachableStrategy; !u.Disabled {
		minInt(r, "/scheduling/unreachableStrategy/inactiveAfterSeconds", u.InactiveAfterSeconds, 0)
		minInt(r, "/scheduling/unreachableStrategy/expungeAfterSeconds", u.ExpungeAfterSeconds, 0)
		if u.InactiveAfterSeconds > u.ExpungeAfterSeconds {
			r.add("/scheduling/unreachableStrategy", msgUnreachableOrder)
		}
	}
	if p.IsResident() {
		if !s.UnreachableStrategy.Disabled {
			r.add("/", msgResidentUnreachable)
		}
		if s.Upgrade.MaximumOverCapacity != 0 {
			r.add("/upgrade/maximumOverCapacity", fmt.Sprintf("got %s, expected 0.0", ScalaDouble(s.Upgrade.MaximumOverCapacity)))
		}
	}
}

// validateAcceptedRoles applies ResourceRole.validForRole: the roles may
// only be "*" and the pod's role.
func validateAcceptedRoles(p Pod, r *reporter) {
	acceptedForRole(p.Scheduling.Placement.AcceptedResourceRoles, p.Role, "/scheduling/placement/acceptedResourceRoles", r)
}

func validatePodConstraint(c PodConstraint, path string, r *reporter) {
	if c.FieldName == "" {
		r.add(path, msgConstraintField)
		return
	}
	switch c.Operator {
	case OpUnique:
		if c.Value != "" {
			r.add(path, msgUniqueNoValue)
		}
	case OpCluster:
	case OpGroupBy:
		if c.Value != "" && !isInt32(c.Value) {
			r.add(path, msgGroupByInt)
		}
	case OpMaxPer:
		if !isInt32(c.Value) {
			r.add(path, msgMaxPerInt)
		}
	case OpLike, OpUnlike:
		if c.Value == "" {
			r.add(path, msgLikeRegexp)
		} else if _, err := regexp.Compile(c.Value); err != nil {
			r.add(path, msgBadRegexp)
		}
	case OpIs:
		if !isValueRegexp.MatchString(c.Value) {
			r.add(path, msgIsText)
		}
	default:
		r.add(path+"/operator", msgConstraintOperator)
	}
}

func isInt32(s string) bool {
	var n int32
	_, err := fmt.Sscan(s, &n)
	return err == nil && fmt.Sprint(n) == strings.TrimPrefix(s, "+")
}

func validateEndpointUniqueness(p Pod, r *reporter) {
	names := map[string]bool{}
	cports := map[int]bool{}
	hports := map[int]bool{}
	for _, c := range p.Containers {
		for _, e := range c.Endpoints {
			if names[e.Name] {
				r.add("/", msgEndpointNamesUnique)
			}
			names[e.Name] = true
			if e.ContainerPort != nil && *e.ContainerPort != 0 {
				if cports[*e.ContainerPort] {
					r.add("/", msgContainerPortsUnique)
				}
				cports[*e.ContainerPort] = true
			}
			if e.HostPort != nil && *e.HostPort != 0 {
				if hports[*e.HostPort] {
					r.add("/", msgHostPortsUnique)
				}
				hports[*e.HostPort] = true
			}
		}
	}
}

func validatePodLinux(l *LinuxInfo, path string, r *reporter) {
	if l == nil {
		return
	}
	if l.IPCInfo != nil {
		if l.IPCInfo.Mode != IPCPrivate && l.IPCInfo.Mode != IPCShareParent {
			r.add(path+"/ipcInfo/mode", "is not one of (PRIVATE,SHARE_PARENT)")
		}
		if l.IPCInfo.ShmSize != nil {
			minInt(r, path+"/ipcInfo/shmSize", *l.IPCInfo.ShmSize, 0)
		}
	}
	if l.Seccomp != nil && l.Seccomp.Unconfined && l.Seccomp.ProfileName != "" {
		r.add(path+"/seccomp", "profileName must not be set when unconfined")
	}
}

// podJSON is used by Pod.MarshalJSON to avoid recursion.
type podJSON Pod

// MarshalJSON writes nil collections as empty ones, as Marathon's
// responses do.
func (p Pod) MarshalJSON() ([]byte, error) {
	v := podJSON(p)
	v.Labels = emptyMap(v.Labels)
	v.Environment = emptyMap(v.Environment)
	v.Secrets = emptyMap(v.Secrets)
	v.Volumes = emptySlice(v.Volumes)
	v.Networks = emptySlice(v.Networks)
	v.Containers = emptySlice(v.Containers)
	return json.Marshal(v)
}

type podContainerJSON PodContainer

// MarshalJSON writes nil collections as empty ones.
func (c PodContainer) MarshalJSON() ([]byte, error) {
	v := podContainerJSON(c)
	v.Endpoints = emptySlice(v.Endpoints)
	v.Environment = emptyMap(v.Environment)
	v.VolumeMounts = emptySlice(v.VolumeMounts)
	v.Artifacts = emptySlice(v.Artifacts)
	v.Labels = emptyMap(v.Labels)
	return json.Marshal(v)
}

type endpointJSON Endpoint

// MarshalJSON writes nil labels as {}.
func (e Endpoint) MarshalJSON() ([]byte, error) {
	v := endpointJSON(e)
	v.Labels = emptyMap(v.Labels)
	return json.Marshal(v)
}

type podNetworkJSON PodNetwork

// MarshalJSON writes nil labels as {}.
func (n PodNetwork) MarshalJSON() ([]byte, error) {
	v := podNetworkJSON(n)
	v.Labels = emptyMap(v.Labels)
	return json.Marshal(v)
}

func emptyMap[M ~map[K]V, K comparable, V any](m M) M {
	if m == nil {
		return M{}
	}
	return m
}

func emptySlice[S ~[]E, E any](s S) S {
	if s == nil {
		return S{}
	}
	return s
}
