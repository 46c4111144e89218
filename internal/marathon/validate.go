package marathon

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Validation messages shared with tests.
const (
	msgCmdArgsContainer = "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."
	msgPortIndex        = "Health check port indices must address an element of the ports array or container port mappings."
	msgOneMesosCheck    = "AppDefinition can contain at most one Mesos health check"
	msgIPv6Check        = "IPv6 can only be used for container type DOCKER and Mesos http/https/tcp health checks"
	msgOperators        = "Constraint operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS"
	msgConstraintArity  = "Each constraint must have either 2 or 3 fields"
	msgPortNamesUnique  = "Port names must be unique."
	msgPortsUnique      = "Ports must be unique."
	msgUnreachableOrder = "inactiveAfterSeconds must be less or equal to expungeAfterSeconds"
	msgSingleInstance   = "Single instance app may only have one instance"
	msgDockerOneNetwork = "may only specify a single container network when using the Docker container engine"
	msgGPUDocker        = "GPU resources only work with the Mesos containerizer"
	// Marathon refuses gpus without --enable_features gpu_resources at "/";
	// Stadion has no such feature: it never registers GPU_RESOURCES, so
	// Mesos would offer it no GPU and the app would wait for ever.
	msgGPUFeature = "Feature gpu_resources is not enabled: Stadion does not register the GPU_RESOURCES capability, so Mesos offers it no GPUs"
	// Persistent and external volumes need resident tasks and a volume
	// driver, which Stadion has not: refused rather than launched without
	// the volume (the task's data would live and die with its sandbox).
	msgPersistentVolume   = "persistent volumes are not supported by Stadion (no resident tasks); see docs/migration.md"
	msgExternalVolume     = "external volumes are not supported by Stadion (no volume driver); see docs/migration.md"
	msgPortMappingsHost   = "portMappings are not allowed with host-networking"
	msgPortDefsContainer  = "portDefinitions are only allowed with host-networking"
	msgRequirePortsHost   = "requirePorts is only allowed with host-networking"
	msgHostNetworkMixed   = "host networking may not be combined with other networks"
	msgBridgeNetworkMixed = "bridge networking may not be combined with other networks"
)

// labelSingleInstance marks apps that may run at most one instance.
const labelSingleInstance = "MARATHON_SINGLE_INSTANCE_APP"

// Validate checks a normalised app against Marathon's rules and returns a
// 422 *Error listing every violation (path and message), or nil.
func Validate(app App) error {
	var r reporter
	validateApp(app, "", DefaultMaxInstances, &r)
	if r.empty() {
		return nil
	}
	return NotValid(r.details()...)
}

// ParseApp runs DecodeApp, Normalize and Validate: the admission of a
// POST /v2/apps body.
func ParseApp(data []byte, opts NormalizeOptions) (App, error) {
	app, err := DecodeApp(data)
	if err != nil {
		return App{}, err
	}
	return Admit(app, opts)
}

// Admit normalises and validates a decoded app, joining the details of both
// steps into one 422 *Error.
func Admit(app App, opts NormalizeOptions) (App, error) {
	app, nerr := Normalize(app, opts)
	var r reporter
	prefixDetails(nerr, "", &r)
	validateApp(app, "", opts.maxInstances(), &r)
	validateRoles(app, "", opts, &r)
	validateSecretSources(app, "", opts, &r)
	if r.empty() {
		return app, nil
	}
	return app, NotValid(r.details()...)
}

// rootPath is the path of an object-level error of the app at p.
func rootPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func below(limit float64) string { return "is less than " + fmtNum(limit) }
func above(limit float64) string { return "is greater than " + fmtNum(limit) }

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func minInt(r *reporter, path string, v, limit int) {
	if v < limit {
		r.add(path, below(float64(limit)))
	}
}

func validateApp(a App, p string, maxInstances int, r *reporter) {
	if a.ID.IsRoot() {
		r.add(p+"/id", "must not be root")
	} else if errs := idErrors(a.ID, false, true); len(errs) > 0 {
		r.add(p+"/id", errs...)
	}
	for i, d := range a.Dependencies {
		if errs := idErrors(d, false, false); len(errs) > 0 {
			r.add(fmt.Sprintf("%s/dependencies(%d)", p, i), errs...)
		}
	}

	hasCmd, hasArgs := a.Cmd != "", len(a.Args) > 0
	hasImage := a.Container != nil && a.Container.Docker != nil
	if !((hasCmd != hasArgs) || (!(hasCmd && hasArgs) && hasImage)) {
		r.add(rootPath(p), msgCmdArgsContainer)
	}

	if a.Cpus < MinCpus || math.IsNaN(a.Cpus) {
		r.add(p+"/cpus", below(MinCpus))
	}
	if a.Mem < 0 || math.IsNaN(a.Mem) {
		r.add(p+"/mem", below(0))
	}
	if a.Disk < 0 || math.IsNaN(a.Disk) {
		r.add(p+"/disk", below(0))
	}
	minInt(r, p+"/gpus", a.Gpus, 0)
	if a.Gpus > 0 {
		r.add(rootPath(p), msgGPUFeature)
	}
	minInt(r, p+"/instances", a.Instances, 0)
	validateLimits(a, p, maxInstances, r)
	minInt(r, p+"/backoffSeconds", a.BackoffSeconds, 0)
	minInt(r, p+"/maxLaunchDelaySeconds", a.MaxLaunchDelaySeconds, 0)
	if a.BackoffFactor < 1 || math.IsNaN(a.BackoffFactor) {
		r.add(p+"/backoffFactor", below(1))
	}
	if a.TaskKillGracePeriodSeconds != nil {
		minInt(r, p+"/taskKillGracePeriodSeconds", *a.TaskKillGracePeriodSeconds, 0)
	}
	validateFraction(r, p+"/upgradeStrategy/minimumHealthCapacity", a.UpgradeStrategy.MinimumHealthCapacity)
	validateFraction(r, p+"/upgradeStrategy/maximumOverCapacity", a.UpgradeStrategy.MaximumOverCapacity)
	minInt(r, p+"/upgradeStrategy/progressDeadlineSeconds", a.UpgradeStrategy.ProgressDeadlineSeconds, 0)
	if u := a.UnreachableStrategy; !u.Disabled {
		minInt(r, p+"/unreachableStrategy/inactiveAfterSeconds", u.InactiveAfterSeconds, 0)
		minInt(r, p+"/unreachableStrategy/expungeAfterSeconds", u.ExpungeAfterSeconds, 0)
		if u.InactiveAfterSeconds > u.ExpungeAfterSeconds {
			r.add(p+"/unreachableStrategy", msgUnreachableOrder)
		}
	}
	if a.KillSelection != YoungestFirst && a.KillSelection != OldestFirst {
		r.add(p+"/killSelection", "is not one of ("+strings.Join(a.KillSelection.enumValues(), ",")+")")
	}
	if a.Labels[labelSingleInstance] == "true" && a.Instances > 1 {
		r.add(rootPath(p), msgSingleInstance)
	}
	if a.AcceptedResourceRoles != nil && len(a.AcceptedResourceRoles) == 0 {
		r.add(p+"/acceptedResourceRoles", "must not be empty")
	}
	for i, role := range a.AcceptedResourceRoles {
		if role == "" {
			r.add(fmt.Sprintf("%s/acceptedResourceRoles(%d)", p, i), "must not be empty")
		}
	}
	for name, v := range a.Env {
		if name == "" {
			r.add(p+"/env", "environment variable names must not be empty")
		}
		if v.IsSecret() {
			if _, ok := a.Secrets[v.Secret]; !ok {
				r.add(p+"/env/"+name, fmt.Sprintf("references an undefined secret named '%s'", v.Secret))
			}
		}
	}
	for name, sec := range a.Secrets {
		if _, err := ParseSecretSource(sec.Source); err != nil {
			r.add(p+"/secrets/"+name+"/source", err.Error())
		}
	}
	for i, f := range a.Fetch {
		if strings.TrimSpace(f.URI) == "" {
			r.add(fmt.Sprintf("%s/fetch(%d)/uri", p, i), "must not be empty")
		} else if !validURISyntax(f.URI) {
			r.add(fmt.Sprintf("%s/fetch(%d)/uri", p, i), msgURISyntax)
		}
	}
	for i, c := range a.Constraints {
		validateConstraint(c, fmt.Sprintf("%s/constraints(%d)", p, i), r)
	}

	validateNetworks(a, p, r)
	validatePorts(a, p, r)
	validateContainer(a, p, r)
	validateHealthChecks(a, p, r)
	validateReadiness(a, p, r)
}

func validateFraction(r *reporter, path string, v float64) {
	switch {
	case v < 0 || math.IsNaN(v):
		r.add(path, below(0))
	case v > 1:
		r.add(path, above(1))
	}
}

func validateConstraint(c Constraint, path string, r *reporter) {
	if c.Arity != 0 && (c.Arity < 2 || c.Arity > 3) {
		r.add(path, msgConstraintArity)
		return
	}
	if c.Field == "" {
		r.add(path, "Missing field and operator")
		return
	}
	switch c.Operator {
	case OpUnique:
		if c.Value != "" {
			r.add(path, "Value specified but not used")
		}
	case OpCluster, OpIs:
		if c.Value == "" {
			r.add(path, "Missing value")
		}
	case OpGroupBy:
		if c.Value != "" {
			if _, err := strconv.ParseInt(c.Value, 10, 32); err != nil {
				r.add(path, "Value was specified but is not a number")
			}
		}
	case OpMaxPer:
		if _, err := strconv.ParseInt(c.Value, 10, 32); err != nil {
			r.add(path, "Value was not specified or is not a number")
		}
	case OpLike, OpUnlike:
		if c.Value == "" {
			r.add(path, "A regular expression value must be provided")
		} else if _, err := regexp.Compile(c.Value); err != nil {
			r.add(path, fmt.Sprintf("'%s' is not a valid regular expression", c.Value))
		}
	default:
		r.add(path, msgOperators)
	}
}

func validateNetworks(a App, p string, r *reporter) {
	var host, bridge, container int
	for i, n := range a.Networks {
		np := fmt.Sprintf("%s/networks(%d)", p, i)
		switch n.Mode {
		case NetworkHost:
			host++
			if n.Name != "" || len(n.Labels) > 0 {
				r.add(np, "host networks may not have names or labels")
			}
		case NetworkBridge:
			bridge++
			if n.Name != "" {
				r.add(np+"/name", "bridge networks may not have names")
			}
		case NetworkContainer:
			container++
		default:
			r.add(np+"/mode", "is not one of (container,container/bridge,host)")
		}
	}
	if host > 0 && len(a.Networks) > 1 {
		r.add(p+"/networks", msgHostNetworkMixed)
	}
	if bridge > 0 && len(a.Networks) > 1 {
		r.add(p+"/networks", msgBridgeNetworkMixed)
	}
	if a.Container != nil && a.Container.Type == ContainerDocker && container > 1 {
		r.add(rootPath(p), msgDockerOneNetwork)
	}
}

func validProtocol(s string) bool {
	switch s {
	case "tcp", "udp", "udp,tcp", "tcp,udp":
		return true
	}
	return false
}

func validatePort(r *reporter, path string, v int) {
	switch {
	case v < 0:
		r.add(path, below(0))
	case v > 65535:
		r.add(path, above(65535))
	}
}

func validatePorts(a App, p string, r *reporter) {
	host := a.IsHostNetworking()
	if !host && len(a.PortDefinitions) > 0 {
		r.add(rootPath(p), msgPortDefsContainer)
	}
	if !host && a.RequirePorts {
		r.add(p+"/requirePorts", msgRequirePortsHost)
	}
	if host && a.Container != nil && len(a.Container.PortMappings) > 0 {
		r.add(rootPath(p), msgPortMappingsHost)
	}
	names := map[string]bool{}
	ports := map[int]bool{}
	for i, d := range a.PortDefinitions {
		dp := fmt.Sprintf("%s/portDefinitions(%d)", p, i)
		validatePort(r, dp+"/port", d.Port)
		if !validProtocol(d.Protocol) {
			r.add(dp+"/protocol", "is not one of (tcp,udp,udp,tcp)")
		}
		if d.Name != "" {
			if names[d.Name] {
				r.add(p+"/portDefinitions", msgPortNamesUnique)
			}
			names[d.Name] = true
		}
		if d.Port != 0 {
			if ports[d.Port] {
				r.add(p+"/portDefinitions", msgPortsUnique)
			}
			ports[d.Port] = true
		}
	}
	if a.Container == nil {
		return
	}
	names = map[string]bool{}
	netNames := map[string]bool{}
	containerNets := 0
	for _, n := range a.Networks {
		if n.Mode == NetworkContainer {
			containerNets++
			netNames[n.Name] = true
		}
	}
	for i, m := range a.Container.PortMappings {
		mp := fmt.Sprintf("%s/container/portMappings(%d)", p, i)
		validatePort(r, mp+"/containerPort", m.ContainerPort)
		validatePort(r, mp+"/servicePort", m.ServicePort)
		if m.HostPort != nil {
			validatePort(r, mp+"/hostPort", *m.HostPort)
		}
		if !validProtocol(m.Protocol) {
			r.add(mp+"/protocol", "is not one of (tcp,udp,udp,tcp)")
		}
		if m.Name != "" {
			if names[m.Name] {
				r.add(p+"/container/portMappings", msgPortNamesUnique)
			}
			names[m.Name] = true
		}
		for j, nn := range m.NetworkNames {
			if !netNames[nn] {
				r.add(fmt.Sprintf("%s/networkNames(%d)", mp, j), "is not one of the app's container network names")
			}
		}
		if containerNets > 1 && m.HostPort != nil && len(m.NetworkNames) != 1 {
			r.add(mp, "networkNames must be a single item list when hostPort is specified and more than 1 container network is defined")
		}
	}
}

func validateContainer(a App, p string, r *reporter) {
	c := a.Container
	if c == nil {
		return
	}
	cp := p + "/container"
	switch c.Type {
	case ContainerDocker:
		if c.Docker == nil {
			r.add(cp+"/docker", "not defined")
		}
		if a.Gpus > 0 {
			r.add(rootPath(p), msgGPUDocker)
		}
	case ContainerMesos:
	default:
		r.add(cp+"/type", "is not one of (DOCKER,MESOS)")
	}
	if d := c.Docker; d != nil {
		if strings.TrimSpace(d.Image) == "" {
			r.add(cp+"/docker/image", "must not be empty")
		}
		if c.Type == ContainerDocker && len(d.PullConfig) > 0 {
			r.add(cp+"/docker/pullConfig", "pullConfig is not supported with Docker containerizer")
		}
		if c.Type == ContainerMesos && len(d.Parameters) > 0 {
			r.add(cp+"/docker/parameters", "must be empty")
		}
		for i, prm := range d.Parameters {
			if prm.Key == "" {
				r.add(fmt.Sprintf("%s/docker/parameters(%d)/key", cp, i), "must not be empty")
			}
		}
	}
	for i, v := range c.Volumes {
		vp := fmt.Sprintf("%s/volumes(%d)", cp, i)
		if v.ContainerPath == "" {
			r.add(vp+"/containerPath", "must not be empty")
		}
		if v.Mode != "" && v.Mode != VolumeRO && v.Mode != VolumeRW {
			r.add(vp+"/mode", "is not one of (RO,RW)")
		}
		if len(v.Persistent) > 0 {
			r.add(vp+"/persistent", msgPersistentVolume)
		}
		if len(v.External) > 0 {
			r.add(vp+"/external", msgExternalVolume)
		}
		if v.Secret != "" {
			if _, ok := a.Secrets[v.Secret]; !ok {
				r.add(vp, "volume.secret must refer to an existing secret")
			} else {
				r.add(vp+"/secret", msgSecretVolume)
			}
		}
	}
}

func validateHealthChecks(a App, p string, r *reporter) {
	nPorts := a.PortCount()
	mesosChecks := 0
	for i, hc := range a.HealthChecks {
		hp := fmt.Sprintf("%s/healthChecks(%d)", p, i)
		if _, ok := canonicalEnum(string(hc.Protocol), hc.Protocol.enumValues()); !ok {
			r.add(hp+"/protocol", "is not one of ("+strings.Join(hc.Protocol.enumValues(), ",")+")")
		}
		if hc.Protocol == ProtocolCommand && (hc.Command == nil || strings.TrimSpace(hc.Command.Value) == "") {
			r.add(hp+"/command", "not defined")
		}
		if hc.Protocol.IsMesos() && hc.Command == nil {
			mesosChecks++
		}
		if hc.Port != nil && hc.PortIndex != nil {
			r.add(hp, "Health check must not specify both port and portIndex")
		}
		if hc.Port != nil {
			validatePort(r, hp+"/port", *hc.Port)
		}
		if hc.Protocol != ProtocolCommand && hc.Command == nil {
			switch {
			case hc.PortIndex != nil:
				if *hc.PortIndex < 0 || *hc.PortIndex >= nPorts {
					r.add(hp, msgPortIndex)
				}
			case hc.Port == nil && nPorts != 1:
				r.add(hp, msgPortIndex)
			}
		}
		if hc.IPProtocol == IPv6 {
			mesosHTTP := hc.Protocol == ProtocolMesosHTTP || hc.Protocol == ProtocolMesosHTTPS || hc.Protocol == ProtocolMesosTCP
			if !mesosHTTP || a.Container == nil || a.Container.Type != ContainerDocker {
				r.add(hp, msgIPv6Check)
			}
		}
		if (hc.Protocol == ProtocolHTTP || hc.Protocol == ProtocolHTTPS || hc.Protocol == ProtocolMesosHTTP || hc.Protocol == ProtocolMesosHTTPS) && hc.Path != "" && !strings.HasPrefix(hc.Path, "/") {
			r.add(hp+"/path", "must start with '/'")
		}
		minInt(r, hp+"/gracePeriodSeconds", hc.GracePeriodSeconds, 0)
		minInt(r, hp+"/intervalSeconds", hc.IntervalSeconds, 0)
		minInt(r, hp+"/timeoutSeconds", hc.TimeoutSeconds, 0)
		minInt(r, hp+"/maxConsecutiveFailures", hc.MaxConsecutiveFailures, 0)
		minInt(r, hp+"/delaySeconds", hc.DelaySeconds, 0)
	}
	if mesosChecks > 1 {
		r.add(rootPath(p), msgOneMesosCheck)
	}
}

func validateReadiness(a App, p string, r *reporter) {
	if len(a.ReadinessChecks) > 1 {
		r.add(p+"/readinessChecks", above(1))
	}
	names := map[string]bool{}
	for _, n := range a.PortNames() {
		if n != "" {
			names[n] = true
		}
	}
	for i, rc := range a.ReadinessChecks {
		rp := fmt.Sprintf("%s/readinessChecks(%d)", p, i)
		if !names[rc.PortName] {
			r.add(rp+"/portName", "No port definition reference for portName "+rc.PortName)
		}
		if rc.TimeoutSeconds >= rc.IntervalSeconds {
			r.add(rp+"/timeoutSeconds", "must be less than intervalSeconds")
		}
		if rc.Protocol != SchemeHTTP && rc.Protocol != SchemeHTTPS {
			r.add(rp+"/protocol", "is not one of (HTTP,HTTPS)")
		}
	}
}

// ValidateGroup validates every app of a normalised group tree and the ids
// of its groups; apps and groups must lie below their enclosing group. It
// applies the default limits (AdmitGroup takes them from the options).
func ValidateGroup(g Group) error {
	return validateGroupTree(g, DefaultMaxInstances)
}

// AdmitGroup runs NormalizeGroup and, when that succeeds, ValidateGroup
// with the limits of opts: the admission of a group body whose top id is
// relative to opts.Base.
func AdmitGroup(g Group, opts NormalizeOptions) (Group, error) {
	g, err := NormalizeGroup(g, opts)
	if err != nil {
		return g, err
	}
	if err := validateGroupTree(g, opts.maxInstances()); err != nil {
		return g, err
	}
	var r reporter
	groupRoles(g, "", opts, &r)
	groupSecretSources(g, "", opts, &r)
	if r.empty() {
		return g, nil
	}
	return g, NotValid(r.details()...)
}

// groupSecretSources runs validateSecretSources on every app of g.
func groupSecretSources(g Group, p string, opts NormalizeOptions, r *reporter) {
	for i, a := range g.Apps {
		validateSecretSources(a, fmt.Sprintf("%s/apps(%d)", p, i), opts, r)
	}
	for i, c := range g.Groups {
		groupSecretSources(c, fmt.Sprintf("%s/groups(%d)", p, i), opts, r)
	}
}

func validateGroupTree(g Group, maxInstances int) error {
	if countGroups(g, MaxGroupsPerRequest) {
		return NotValid(Detail{Path: "/groups", Errors: []string{msgGroups}})
	}
	var r reporter
	validateGroup(g, "", maxInstances, &r)
	if r.empty() {
		return nil
	}
	return NotValid(r.details()...)
}

func validateGroup(g Group, p string, maxInstances int, r *reporter) {
	if !g.ID.IsRoot() {
		if errs := idErrors(g.ID, false, false); len(errs) > 0 {
			r.add(p+"/id", errs...)
		}
	}
	seen := map[PathID]bool{}
	for i, a := range g.Apps {
		ap := fmt.Sprintf("%s/apps(%d)", p, i)
		if a.ID.Parent() != g.ID.Canonical() {
			r.add(ap+"/id", fmt.Sprintf("Identifier is not child of %s. Hint: use relative paths.", g.ID))
		}
		if seen[a.ID] {
			r.add(ap+"/id", "is not unique")
		}
		seen[a.ID] = true
		validateApp(a, ap, maxInstances, r)
	}
	for i, c := range g.Groups {
		cp := fmt.Sprintf("%s/groups(%d)", p, i)
		if c.ID.Parent() != g.ID.Canonical() {
			r.add(cp+"/id", fmt.Sprintf("Identifier is not child of %s. Hint: use relative paths.", g.ID))
		}
		if seen[c.ID] {
			r.add(cp+"/id", "is not unique")
		}
		seen[c.ID] = true
		validateGroup(c, cp, maxInstances, r)
	}
	for i, d := range g.Dependencies {
		if errs := idErrors(d, false, false); len(errs) > 0 {
			r.add(fmt.Sprintf("%s/dependencies(%d)", p, i), errs...)
		}
	}
}
