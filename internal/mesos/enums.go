package mesos

// CallType names a scheduler call (mesos.v1.scheduler.Call.Type).
type CallType string

// Scheduler call types.
const (
	CallUnknown                    CallType = "UNKNOWN"
	CallSubscribe                  CallType = "SUBSCRIBE"
	CallTeardown                   CallType = "TEARDOWN"
	CallAccept                     CallType = "ACCEPT"
	CallDecline                    CallType = "DECLINE"
	CallRevive                     CallType = "REVIVE"
	CallKill                       CallType = "KILL"
	CallShutdown                   CallType = "SHUTDOWN"
	CallAcknowledge                CallType = "ACKNOWLEDGE"
	CallReconcile                  CallType = "RECONCILE"
	CallMessage                    CallType = "MESSAGE"
	CallRequest                    CallType = "REQUEST"
	CallSuppress                   CallType = "SUPPRESS"
	CallAcceptInverseOffers        CallType = "ACCEPT_INVERSE_OFFERS"
	CallDeclineInverseOffers       CallType = "DECLINE_INVERSE_OFFERS"
	CallAcknowledgeOperationStatus CallType = "ACKNOWLEDGE_OPERATION_STATUS"
	CallReconcileOperations        CallType = "RECONCILE_OPERATIONS"
	CallUpdateFramework            CallType = "UPDATE_FRAMEWORK"
)

// EventType names a scheduler event (mesos.v1.scheduler.Event.Type).
type EventType string

// Scheduler event types.
const (
	EventUnknown               EventType = "UNKNOWN"
	EventSubscribed            EventType = "SUBSCRIBED"
	EventOffers                EventType = "OFFERS"
	EventInverseOffers         EventType = "INVERSE_OFFERS"
	EventRescind               EventType = "RESCIND"
	EventRescindInverseOffer   EventType = "RESCIND_INVERSE_OFFER"
	EventUpdate                EventType = "UPDATE"
	EventUpdateOperationStatus EventType = "UPDATE_OPERATION_STATUS"
	EventMessage               EventType = "MESSAGE"
	EventFailure               EventType = "FAILURE"
	EventError                 EventType = "ERROR"
	EventHeartbeat             EventType = "HEARTBEAT"
)

// TaskState is a task's state (mesos.v1.TaskState).
type TaskState string

// Task states. States from TASK_DROPPED on are sent only to PARTITION_AWARE
// frameworks; the others see TASK_LOST. TASK_KILLING is sent only to
// frameworks with the TASK_KILLING_STATE capability.
const (
	TaskStaging        TaskState = "TASK_STAGING"
	TaskStarting       TaskState = "TASK_STARTING"
	TaskRunning        TaskState = "TASK_RUNNING"
	TaskKilling        TaskState = "TASK_KILLING"
	TaskFinished       TaskState = "TASK_FINISHED"
	TaskFailed         TaskState = "TASK_FAILED"
	TaskKilled         TaskState = "TASK_KILLED"
	TaskError          TaskState = "TASK_ERROR"
	TaskLost           TaskState = "TASK_LOST"
	TaskDropped        TaskState = "TASK_DROPPED"
	TaskUnreachable    TaskState = "TASK_UNREACHABLE"
	TaskGone           TaskState = "TASK_GONE"
	TaskGoneByOperator TaskState = "TASK_GONE_BY_OPERATOR"
	TaskUnknown        TaskState = "TASK_UNKNOWN"
)

// Terminal reports whether no further update can follow s. TASK_LOST counts
// as terminal, as Mesos's own protobuf::isTerminalState has it, although a
// lost task may come back when its agent reregisters.
func (s TaskState) Terminal() bool {
	switch s {
	case TaskFinished, TaskFailed, TaskKilled, TaskError, TaskLost, TaskDropped, TaskGone, TaskGoneByOperator:
		return true
	}
	return false
}

// Source says who generated a task status (mesos.v1.TaskStatus.Source).
type Source string

// Status sources.
const (
	SourceMaster   Source = "SOURCE_MASTER"
	SourceAgent    Source = "SOURCE_AGENT"
	SourceExecutor Source = "SOURCE_EXECUTOR"
)

// Reason explains a task status (mesos.v1.TaskStatus.Reason). The list grows
// between Mesos releases, so unknown names are carried as they are.
type Reason string

// Task status reasons, the full list of mesos.v1.TaskStatus.Reason as of
// Mesos 1.11.
const (
	ReasonCommandExecutorFailed         Reason = "REASON_COMMAND_EXECUTOR_FAILED"
	ReasonContainerLaunchFailed         Reason = "REASON_CONTAINER_LAUNCH_FAILED"
	ReasonContainerLimitation           Reason = "REASON_CONTAINER_LIMITATION"
	ReasonContainerLimitationDisk       Reason = "REASON_CONTAINER_LIMITATION_DISK"
	ReasonContainerLimitationMemory     Reason = "REASON_CONTAINER_LIMITATION_MEMORY"
	ReasonContainerPreempted            Reason = "REASON_CONTAINER_PREEMPTED"
	ReasonContainerUpdateFailed         Reason = "REASON_CONTAINER_UPDATE_FAILED"
	ReasonMaxCompletionTimeReached      Reason = "REASON_MAX_COMPLETION_TIME_REACHED"
	ReasonExecutorRegistrationTimeout   Reason = "REASON_EXECUTOR_REGISTRATION_TIMEOUT"
	ReasonExecutorReregistrationTimeout Reason = "REASON_EXECUTOR_REREGISTRATION_TIMEOUT"
	ReasonExecutorTerminated            Reason = "REASON_EXECUTOR_TERMINATED"
	ReasonExecutorUnregistered          Reason = "REASON_EXECUTOR_UNREGISTERED" // no longer used by Mesos
	ReasonFrameworkRemoved              Reason = "REASON_FRAMEWORK_REMOVED"
	ReasonGCError                       Reason = "REASON_GC_ERROR"
	ReasonInvalidFrameworkID            Reason = "REASON_INVALID_FRAMEWORKID"
	ReasonInvalidOffers                 Reason = "REASON_INVALID_OFFERS"
	ReasonIOSwitchboardExited           Reason = "REASON_IO_SWITCHBOARD_EXITED"
	ReasonMasterDisconnected            Reason = "REASON_MASTER_DISCONNECTED"
	ReasonReconciliation                Reason = "REASON_RECONCILIATION"
	ReasonResourcesUnknown              Reason = "REASON_RESOURCES_UNKNOWN"
	ReasonAgentDisconnected             Reason = "REASON_AGENT_DISCONNECTED"
	ReasonAgentDraining                 Reason = "REASON_AGENT_DRAINING"
	ReasonAgentRemoved                  Reason = "REASON_AGENT_REMOVED"
	ReasonAgentRemovedByOperator        Reason = "REASON_AGENT_REMOVED_BY_OPERATOR"
	ReasonAgentReregistered             Reason = "REASON_AGENT_REREGISTERED"
	ReasonAgentRestarted                Reason = "REASON_AGENT_RESTARTED"
	ReasonAgentUnknown                  Reason = "REASON_AGENT_UNKNOWN"
	ReasonTaskKilledDuringLaunch        Reason = "REASON_TASK_KILLED_DURING_LAUNCH"
	ReasonTaskCheckStatusUpdated        Reason = "REASON_TASK_CHECK_STATUS_UPDATED"
	ReasonTaskHealthCheckStatusUpdated  Reason = "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"
	ReasonTaskGroupInvalid              Reason = "REASON_TASK_GROUP_INVALID"
	ReasonTaskGroupUnauthorized         Reason = "REASON_TASK_GROUP_UNAUTHORIZED"
	ReasonTaskInvalid                   Reason = "REASON_TASK_INVALID"
	ReasonTaskUnauthorized              Reason = "REASON_TASK_UNAUTHORIZED"
	ReasonTaskUnknown                   Reason = "REASON_TASK_UNKNOWN"
)

// ValueType is the type of a resource or attribute value (mesos.v1.Value.Type).
type ValueType string

// Value types.
const (
	ValueScalar ValueType = "SCALAR"
	ValueRanges ValueType = "RANGES"
	ValueSet    ValueType = "SET"
	ValueText   ValueType = "TEXT"
)

// OperationType is the type of an offer operation (mesos.v1.Offer.Operation.Type).
type OperationType string

// Offer operation types.
const (
	OperationLaunch       OperationType = "LAUNCH"
	OperationLaunchGroup  OperationType = "LAUNCH_GROUP"
	OperationReserve      OperationType = "RESERVE"
	OperationUnreserve    OperationType = "UNRESERVE"
	OperationCreate       OperationType = "CREATE"
	OperationDestroy      OperationType = "DESTROY"
	OperationGrowVolume   OperationType = "GROW_VOLUME"
	OperationShrinkVolume OperationType = "SHRINK_VOLUME"
	OperationCreateDisk   OperationType = "CREATE_DISK"
	OperationDestroyDisk  OperationType = "DESTROY_DISK"
)

// ContainerType is mesos.v1.ContainerInfo.Type.
type ContainerType string

// Container types.
const (
	ContainerDocker ContainerType = "DOCKER"
	ContainerMesos  ContainerType = "MESOS"
)

// DockerNetwork is mesos.v1.ContainerInfo.DockerInfo.Network.
type DockerNetwork string

// Docker network modes. HOST is the proto default.
const (
	NetworkHost   DockerNetwork = "HOST"
	NetworkBridge DockerNetwork = "BRIDGE"
	NetworkNone   DockerNetwork = "NONE"
	NetworkUser   DockerNetwork = "USER"
)

// HealthCheckType is mesos.v1.HealthCheck.Type.
type HealthCheckType string

// Health check types.
const (
	HealthCheckCommand HealthCheckType = "COMMAND"
	HealthCheckHTTP    HealthCheckType = "HTTP"
	HealthCheckTCP     HealthCheckType = "TCP"
)

// Capability types of a framework (mesos.v1.FrameworkInfo.Capability.Type).
const (
	CapabilityRevocableResources    = "REVOCABLE_RESOURCES"
	CapabilityTaskKillingState      = "TASK_KILLING_STATE"
	CapabilityGPUResources          = "GPU_RESOURCES"
	CapabilitySharedResources       = "SHARED_RESOURCES"
	CapabilityPartitionAware        = "PARTITION_AWARE"
	CapabilityMultiRole             = "MULTI_ROLE"
	CapabilityReservationRefinement = "RESERVATION_REFINEMENT"
	CapabilityRegionAware           = "REGION_AWARE"
)

// Capability types of a master (mesos.v1.MasterInfo.Capability.Type).
const (
	MasterCapabilityAgentUpdate   = "AGENT_UPDATE"
	MasterCapabilityAgentDraining = "AGENT_DRAINING"
	MasterCapabilityQuotaV2       = "QUOTA_V2"
)
