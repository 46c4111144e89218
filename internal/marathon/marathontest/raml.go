package marathontest

// The shapes below are the types of Marathon 1.10's RAML
// (docs/docs/rest-api/public/api/v2/types/*.raml), reduced to the keys
// Marathon always writes. Marathon's JSON writers are generated from the
// RAML: a property is written every time when it is required or has a
// default (and is not marked forceOptional), and an array or map property
// is written every time, empty or not, unless it is marked omitEmpty or
// forceOptional; every other property is an Option, written only when set.
// Where Marathon's conversion code always sets an Option (an app's
// upgradeStrategy, version, role...), the comment on the shape says so.

// Error is error.Error: {message, details?}.
var Error = Obj(map[string]Shape{"message": Str})

// Invalid is the error.Error of a 400 or 422 (traits jsonValidator and
// objectValidator): Marathon's validation writes details, each a path and
// its errors.
var Invalid = Error.With(map[string]Shape{
	"details": Arr(Obj(map[string]Shape{"path": Str, "errors": Arr(Str)})),
})

// Malformed is the 400 of a body that is not JSON. The RAML's ErrorDetail
// is an array, but MarathonExceptionMapper answers a JsonParseException
// with the parser's message as a string in details.
var Malformed = Error.With(map[string]Shape{"details": Str})

// Locked is the 409 of a deployable call on an app in a deployment
// (trait deployable): the message and the deployments in the way.
var Locked = Error.With(map[string]Shape{"deployments": Arr(Identifiable)})

// DeploymentResult is deploymentResult.DeploymentResult, the answer of
// every deployable call.
var DeploymentResult = Obj(map[string]Shape{"deploymentId": Str, "version": Str})

// DeploymentSteps is deploymentSteps.DeploymentSteps, the answer of a dry
// run.
var DeploymentSteps = Obj(map[string]Shape{
	"steps": Arr(Obj(map[string]Shape{"actions": Arr(deploymentAction)})),
})

// deploymentAction is deploymentAction.DeploymentAction; app and pod are
// Options.
var deploymentAction = Obj(map[string]Shape{"action": Str})

// DeploymentInfo is deploymentEventsInfo.DeploymentStepInfo, an item of
// GET /v2/deployments: a DeploymentPlan plus its progress.
var DeploymentInfo = Obj(map[string]Shape{
	"id":           Str,
	"version":      Str,
	"steps":        Arr(Obj(map[string]Shape{"actions": Arr(deploymentAction)})),
	"affectedApps": Arr(Str),
	"affectedPods": Arr(Str),
	"currentActions": Arr(deploymentAction.With(map[string]Shape{
		"readinessCheckResults": Arr(AnyObject),
	})),
	"currentStep": Int,
	"totalSteps":  Int,
})

// portDefinition is network.PortDefinition: port and protocol have
// defaults; labels is omitEmpty and name an Option.
var portDefinition = Obj(map[string]Shape{"port": Int, "protocol": Str})

// network is network.Network: mode has a default.
var network = Obj(map[string]Shape{"mode": Str})

// unreachableStrategy is unreachableStrategy.UnreachableStrategy, the
// string "disabled" or an object with both durations (defaults).
var unreachableStrategy = Union(Str, Obj(map[string]Shape{
	"inactiveAfterSeconds": Int,
	"expungeAfterSeconds":  Int,
}))

// App is app.App as Marathon writes a stored app with host networking.
// Written by the generated writer: the properties with defaults (cpus,
// mem, disk, gpus, instances, executor, backoff*, maxLaunchDelaySeconds,
// requirePorts, killSelection) and the arrays and maps that are neither
// omitEmpty nor forceOptional (labels, networks). Set every time by
// AppConversion.appWriter: upgradeStrategy, unreachableStrategy, version,
// versionInfo (an app stored through the API has full version info),
// role, and portDefinitions for host networking.
var App = Obj(map[string]Shape{
	"id":                    Str,
	"backoffFactor":         Num,
	"backoffSeconds":        Int,
	"cpus":                  Num,
	"disk":                  Num,
	"executor":              Str,
	"gpus":                  Int,
	"instances":             Int,
	"labels":                Map(Str),
	"maxLaunchDelaySeconds": Int,
	"mem":                   Num,
	"networks":              Arr(network),
	"portDefinitions":       Arr(portDefinition),
	"requirePorts":          Bool,
	"killSelection":         Str,
	"upgradeStrategy": Obj(map[string]Shape{
		"maximumOverCapacity":   Num,
		"minimumHealthCapacity": Num,
	}),
	"unreachableStrategy": unreachableStrategy,
	"version":             Str,
	"versionInfo": Obj(map[string]Shape{
		"lastScalingAt":      Str,
		"lastConfigChangeAt": Str,
	}),
	"role": Str,
})

// AppCounts are the AppInfo properties of embed "counts", which Marathon
// adds to every app of GET /v2/apps and GET /v2/apps/{id}.
var AppCounts = map[string]Shape{
	"tasksStaged":    Int,
	"tasksRunning":   Int,
	"tasksHealthy":   Int,
	"tasksUnhealthy": Int,
}

// Identifiable is stringTypes.Identifiable as written: {id}.
var Identifiable = Obj(map[string]Shape{"id": Str})

// AppListItem is an AppInfo of GET /v2/apps: the app, its counts and its
// deployments (AppsResource.index always embeds both).
var AppListItem = App.With(AppCounts).With(map[string]Shape{"deployments": Arr(Identifiable)})

// AppList is app.AppList.
var AppList = Obj(map[string]Shape{"apps": Arr(AppListItem)})

// Task is task.Task. Required: appId, host, id, state, role; arrays that
// are neither omitEmpty nor forceOptional and so always written:
// healthCheckResults, ipAddresses, ports, servicePorts, localVolumes.
// TaskConversion sets slaveId, stagedAt, startedAt and version for every
// task that was launched and runs, which are the tasks the suite lists.
var Task = Obj(map[string]Shape{
	"appId":              Str,
	"host":               Str,
	"id":                 Str,
	"state":              Str,
	"role":               Str,
	"healthCheckResults": Arr(AnyObject),
	"ipAddresses": Arr(Obj(map[string]Shape{
		"ipAddress": Str,
		"protocol":  Str,
	})),
	"ports":        Arr(Int),
	"servicePorts": Arr(Int),
	"localVolumes": Arr(AnyObject),
	"slaveId":      Str,
	"stagedAt":     Str,
	"startedAt":    Str,
	"version":      Str,
})

// AppDetail is the AppInfo of GET /v2/apps/{id}: counts, tasks and
// deployments are embedded (AppsResource.show).
var AppDetail = AppListItem.With(map[string]Shape{"tasks": Arr(Task)})

// AppSingle is {"app": AppInfo}.
var AppSingle = Obj(map[string]Shape{"app": AppDetail})

// AppCreated is the AppInfo answered by POST /v2/apps: counts, tasks
// (none yet) and the deployment that starts it.
var AppCreated = AppDetail

// TaskList is task.TaskList.
var TaskList = Obj(map[string]Shape{"tasks": Arr(Task)})

// TaskSingle is task.TaskSingle.
var TaskSingle = Obj(map[string]Shape{"task": Task})

// VersionList is app.VersionList.
var VersionList = Obj(map[string]Shape{"versions": Arr(Str)})

// Group is group.GroupInfo with Marathon's default embeds (group.groups,
// group.apps): id is required and apps, pods, groups and dependencies are
// arrays written every time; DefaultInfoService sets version for every
// stored group (enforceRole only for top-level ones). The child groups
// have the same shape (checked two levels deep).
var Group = groupInfo(groupInfo(AnyObject))

func groupInfo(child Shape) Shape {
	return Obj(map[string]Shape{
		"id":           Str,
		"apps":         Arr(App),
		"pods":         Arr(AnyObject),
		"groups":       Arr(child),
		"dependencies": Arr(Str),
		"version":      Str,
	})
}

// Versions is the bare list of group versions.
var Versions = Arr(Str)

// Info is info.MarathonInfo: name, version, buildref, elected and the
// three config objects are required, and so are marathon_config.features
// and task_lost_expunge_*, every key of zookeeper_config but zk_compression*
// and zk_max_node_size, and both keys of http_config.
var Info = Obj(map[string]Shape{
	"name":     Str,
	"version":  Str,
	"buildref": Str,
	"elected":  Bool,
	"marathon_config": Obj(map[string]Shape{
		"features":                        Arr(Str),
		"task_lost_expunge_initial_delay": Num,
		"task_lost_expunge_interval":      Num,
	}),
	"zookeeper_config": Obj(map[string]Shape{
		"zk":                    Str,
		"zk_connection_timeout": Num,
		"zk_max_versions":       Num,
		"zk_session_timeout":    Num,
		"zk_timeout":            Num,
	}),
	"http_config": Obj(map[string]Shape{
		"http_port":  Num,
		"https_port": Num,
	}),
})

// Leader is info.LeaderInfo.
var Leader = Obj(map[string]Shape{"leader": Str})

// Message is stringTypes.Message.
var Message = Obj(map[string]Shape{"message": Str})

// declinedOfferStep is queue.DeclinedOfferStep.
var declinedOfferStep = Obj(map[string]Shape{"reason": Str, "declined": Num, "processed": Num})

// QueueApp is queue.QueueApp: every property of QueueObject but
// lastUnusedOffers (forceOptional) is written; the two reject summaries are
// arrays and so written every time.
var QueueApp = Obj(map[string]Shape{
	"count": Num,
	"role":  Str,
	"delay": Obj(map[string]Shape{"timeLeftSeconds": Num, "overdue": Bool}),
	"since": Str,
	"processedOffersSummary": Obj(map[string]Shape{
		"processedOffersCount":       Num,
		"unusedOffersCount":          Num,
		"rejectSummaryLastOffers":    Arr(declinedOfferStep),
		"rejectSummaryLaunchAttempt": Arr(declinedOfferStep),
	}),
	"app": App,
})

// Queue is queue.Queue; queue is an array and so written every time.
var Queue = Obj(map[string]Shape{"queue": Arr(QueueApp)})

// Plugins is the answer of GET /v2/plugins.
var Plugins = Obj(map[string]Shape{"plugins": Arr(AnyObject)})

// Metrics is newMetrics.NewMetrics, what Marathon 1.10 serves at /metrics
// with its default metrics: a version and five maps of metrics.
var Metrics = Obj(map[string]Shape{
	"version":    Str,
	"counters":   Map(Obj(map[string]Shape{"count": Int})),
	"gauges":     Map(Obj(map[string]Shape{"value": Num})),
	"histograms": Map(Obj(map[string]Shape{"count": Int, "min": Num, "max": Num, "mean": Num, "p50": Num, "p99": Num})),
	"meters":     Map(Obj(map[string]Shape{"count": Int, "m1_rate": Num, "mean_rate": Num, "units": Str})),
	"timers":     Map(Obj(map[string]Shape{"count": Int, "mean": Num, "p99": Num, "m1_rate": Num, "duration_units": Str, "rate_units": Str})),
})

// Loggers is logging.Loggers: logger name to level.
var Loggers = Map(Str)

// LoggerChange is logging.LoggerChange.
var LoggerChange = Obj(map[string]Shape{"level": Str, "logger": Str})

// Pod is types/pod.raml Pod as Marathon answers it (PodConversion
// writes every collection, empty or not).
var Pod = Obj(map[string]Shape{
	"id": Str, "version": Str, "containers": Arr(podContainer), "networks": Arr(network),
	"volumes": Arr(AnyObject), "scaling": Obj(map[string]Shape{"kind": Str, "instances": Int}),
	"scheduling": Obj(map[string]Shape{"backoff": AnyObject, "upgrade": AnyObject, "placement": AnyObject, "killSelection": Str, "unreachableStrategy": unreachableStrategy}),
	"secrets":    AnyObject, "environment": AnyObject, "labels": AnyObject, "executorResources": AnyObject,
})

// podContainer is types/podContainer.raml PodContainer.
var podContainer = Obj(map[string]Shape{"name": Str, "resources": Obj(map[string]Shape{"cpus": Num, "mem": Num})})

// PodList is GET /v2/pods.
var PodList = Arr(Pod)

// PodStatus is types/podStatus.raml PodStatus.
var PodStatus = Obj(map[string]Shape{
	"id": Str, "spec": Pod, "status": Str, "statusSince": Str, "instances": Arr(podInstanceStatus),
	"terminationHistory": Arr(AnyObject), "lastUpdated": Str, "lastChanged": Str,
})

// podInstanceStatus is types/podStatus.raml PodInstanceStatus.
var podInstanceStatus = Obj(map[string]Shape{
	"id": Str, "status": Str, "statusSince": Str, "conditions": Arr(AnyObject), "networks": Arr(AnyObject),
	"containers":   Arr(Obj(map[string]Shape{"name": Str, "status": Str, "statusSince": Str, "conditions": Arr(AnyObject), "endpoints": Arr(AnyObject), "lastUpdated": Str, "lastChanged": Str})),
	"localVolumes": Arr(AnyObject), "lastUpdated": Str, "lastChanged": Str,
})

// PodStatusList is GET /v2/pods/::status.
var PodStatusList = Arr(PodStatus)

// PodInstance is types/instance.raml Instance, as DELETE
// /v2/pods/{id}::instances answers it.
var PodInstance = Obj(map[string]Shape{
	"instanceId":     Obj(map[string]Shape{"idString": Str}),
	"state":          Obj(map[string]Shape{"condition": Str, "since": Str, "goal": Str}),
	"runSpecVersion": Str, "unreachableStrategy": unreachableStrategy,
})
