package marathon

// DeploymentAction is the kind of a deployment step action.
type DeploymentAction string

// Deployment actions.
const (
	StartApplication   DeploymentAction = "StartApplication"
	StopApplication    DeploymentAction = "StopApplication"
	ScaleApplication   DeploymentAction = "ScaleApplication"
	RestartApplication DeploymentAction = "RestartApplication"
	StartPod           DeploymentAction = "StartPod"
	StopPod            DeploymentAction = "StopPod"
	ScalePod           DeploymentAction = "ScalePod"
	RestartPod         DeploymentAction = "RestartPod"
	ResolveArtifacts   DeploymentAction = "ResolveArtifacts"
)

// Action is one action of a deployment step; App or Pod is set.
type Action struct {
	Action DeploymentAction `json:"action"`
	App    PathID           `json:"app,omitempty"`
	Pod    PathID           `json:"pod,omitempty"`
}

// Step is a set of actions that run concurrently.
type Step struct {
	Actions []Action `json:"actions"`
}

// CurrentAction is an action of the running step with its readiness.
type CurrentAction struct {
	Action                DeploymentAction       `json:"action"`
	App                   PathID                 `json:"app,omitempty"`
	Pod                   PathID                 `json:"pod,omitempty"`
	ReadinessCheckResults []ReadinessCheckResult `json:"readinessCheckResults"`
}

// Deployment is an entry of GET /v2/deployments.
type Deployment struct {
	ID             string          `json:"id"`
	Version        Timestamp       `json:"version"`
	AffectedApps   []PathID        `json:"affectedApps"`
	AffectedPods   []PathID        `json:"affectedPods"`
	Steps          []Step          `json:"steps"`
	CurrentActions []CurrentAction `json:"currentActions"`
	CurrentStep    int             `json:"currentStep"`
	TotalSteps     int             `json:"totalSteps"`
}

// MarshalJSON writes empty lists as [].
func (d Deployment) MarshalJSON() ([]byte, error) {
	type plain Deployment
	p := plain(d)
	if p.AffectedApps == nil {
		p.AffectedApps = []PathID{}
	}
	if p.AffectedPods == nil {
		p.AffectedPods = []PathID{}
	}
	if p.Steps == nil {
		p.Steps = []Step{}
	}
	if p.CurrentActions == nil {
		p.CurrentActions = []CurrentAction{}
	}
	for i := range p.CurrentActions {
		if p.CurrentActions[i].ReadinessCheckResults == nil {
			cas := append([]CurrentAction(nil), p.CurrentActions...)
			for j := range cas {
				if cas[j].ReadinessCheckResults == nil {
					cas[j].ReadinessCheckResults = []ReadinessCheckResult{}
				}
			}
			p.CurrentActions = cas
			break
		}
	}
	return marshalPlain(p)
}

// DeploymentSteps is the body of PUT /v2/groups?dryRun=true: the steps
// the deployment would take, without its id or version.
type DeploymentSteps struct {
	Steps []Step `json:"steps"`
}

// MarshalJSON writes no steps as [].
func (d DeploymentSteps) MarshalJSON() ([]byte, error) {
	type plain DeploymentSteps
	p := plain(d)
	if p.Steps == nil {
		p.Steps = []Step{}
	}
	return marshalPlain(p)
}

// DeploymentResult is the body of every deployable call:
// {"deploymentId": ..., "version": ...}; the same id goes in the
// Marathon-Deployment-Id header.
type DeploymentResult struct {
	DeploymentID string    `json:"deploymentId"`
	Version      Timestamp `json:"version"`
}

// DeploymentHeader is the response header carrying the deployment id.
const DeploymentHeader = "Marathon-Deployment-Id"
