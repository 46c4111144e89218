package master

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/stadionhq/stadion/internal/mesos"
)

// Mesos parses calls with its own JSON-to-protobuf mapping, which errors on
// enums sent as numbers and then reports missing proto2 required fields by
// path. encoding/json can do neither, so the raw JSON is walked against a
// small schema of the Call message first.

// schema describes one protobuf message: its required fields in declaration
// order, its enum fields, and its message fields in field-number order
// (the order protobuf reports missing fields in).
type schema struct {
	required []string
	enums    []string
	fields   []field
}

type field struct {
	name string
	msg  *schema
}

var (
	idSchema     = &schema{required: []string{"value"}}
	labelsSchema = &schema{fields: []field{{"labels", &schema{required: []string{"key"}}}}}
	filtersSch   = &schema{}
	valueSchemas = []field{
		{"scalar", &schema{required: []string{"value"}}},
		{"ranges", &schema{fields: []field{{"range", &schema{required: []string{"begin", "end"}}}}}},
	}
	resourceSchema = &schema{
		required: []string{"name", "type"},
		enums:    []string{"type"},
		fields:   valueSchemas,
	}
	commandSchema = &schema{fields: []field{
		{"uris", &schema{required: []string{"value"}}},
		{"environment", &schema{fields: []field{{"variables", &schema{required: []string{"name"}}}}}},
	}}
	portMappingSchema = &schema{required: []string{"host_port", "container_port"}}
	containerSchema   = &schema{
		required: []string{"type"},
		enums:    []string{"type"},
		fields: []field{
			{"volumes", &schema{required: []string{"container_path"}, enums: []string{"mode"}}},
			{"docker", &schema{
				required: []string{"image"},
				enums:    []string{"network"},
				fields: []field{
					{"port_mappings", portMappingSchema},
					{"parameters", &schema{required: []string{"key", "value"}}},
				},
			}},
			{"network_infos", &schema{fields: []field{{"port_mappings", portMappingSchema}}}},
		},
	}
	healthSchema = &schema{enums: []string{"type"}, fields: []field{
		{"command", commandSchema},
		{"http", &schema{required: []string{"port"}}},
		{"tcp", &schema{required: []string{"port"}}},
	}}
	discoverySchema = &schema{
		required: []string{"visibility"},
		enums:    []string{"visibility"},
		fields: []field{
			{"ports", &schema{fields: []field{{"ports", &schema{required: []string{"number"}, enums: []string{"visibility"}, fields: []field{{"labels", labelsSchema}}}}}}},
			{"labels", labelsSchema},
		},
	}
	taskInfoSchema = &schema{
		required: []string{"name", "task_id", "agent_id"},
		fields: []field{
			{"task_id", idSchema},
			{"agent_id", idSchema},
			{"resources", resourceSchema},
			{"command", commandSchema},
			{"health_check", healthSchema},
			{"container", containerSchema},
			{"labels", labelsSchema},
			{"discovery", discoverySchema},
		},
	}
	frameworkInfoSchema = &schema{
		required: []string{"user", "name"},
		fields: []field{
			{"id", idSchema},
			{"capabilities", &schema{enums: []string{"type"}}},
			{"labels", labelsSchema},
		},
	}
	callSchema = &schema{
		enums: []string{"type"},
		fields: []field{
			{"framework_id", idSchema},
			{"subscribe", &schema{required: []string{"framework_info"}, fields: []field{{"framework_info", frameworkInfoSchema}}}},
			{"accept", &schema{fields: []field{
				{"offer_ids", idSchema},
				{"operations", &schema{enums: []string{"type"}, fields: []field{
					{"launch", &schema{fields: []field{{"task_infos", taskInfoSchema}}}},
				}}},
				{"filters", filtersSch},
			}}},
			{"decline", &schema{fields: []field{{"offer_ids", idSchema}, {"filters", filtersSch}}}},
			{"kill", &schema{required: []string{"task_id"}, fields: []field{{"task_id", idSchema}, {"agent_id", idSchema}}}},
			{"shutdown", &schema{required: []string{"executor_id", "agent_id"}, fields: []field{{"executor_id", idSchema}, {"agent_id", idSchema}}}},
			{"acknowledge", &schema{required: []string{"agent_id", "task_id", "uuid"}, fields: []field{{"agent_id", idSchema}, {"task_id", idSchema}}}},
			{"reconcile", &schema{fields: []field{{"tasks", &schema{required: []string{"task_id"}, fields: []field{{"task_id", idSchema}, {"agent_id", idSchema}}}}}}},
			{"message", &schema{required: []string{"agent_id", "executor_id", "data"}, fields: []field{{"agent_id", idSchema}, {"executor_id", idSchema}}}},
			{"request", &schema{fields: []field{{"requests", &schema{fields: []field{{"agent_id", idSchema}, {"resources", resourceSchema}}}}}}},
			{"update_framework", &schema{required: []string{"framework_info"}, fields: []field{{"framework_info", frameworkInfoSchema}}}},
		},
	}
)

// checkEnums returns the name of the first enum field given as a JSON number.
func checkEnums(s *schema, v any) (string, bool) {
	switch v := v.(type) {
	case []any:
		for _, item := range v {
			if name, bad := checkEnums(s, item); bad {
				return name, true
			}
		}
	case map[string]any:
		for _, e := range s.enums {
			if _, isNum := v[e].(json.Number); isNum {
				return e, true
			}
		}
		for _, f := range s.fields {
			if sub, ok := v[f.name]; ok && sub != nil {
				if name, bad := checkEnums(f.msg, sub); bad {
					return name, true
				}
			}
		}
	}
	return "", false
}

// missingFields lists the required fields absent from v, as protobuf names
// them: "subscribe.framework_info.user", "accept.operations[0].launch...".
func missingFields(s *schema, v any, prefix string, out []string) []string {
	obj, ok := v.(map[string]any)
	if !ok {
		return out
	}
	for _, r := range s.required {
		if val, ok := obj[r]; !ok || val == nil {
			out = append(out, prefix+r)
		}
	}
	for _, f := range s.fields {
		sub, ok := obj[f.name]
		if !ok || sub == nil {
			continue
		}
		if list, isList := sub.([]any); isList {
			for i, item := range list {
				out = missingFields(f.msg, item, prefix+f.name+"["+strconv.Itoa(i)+"].", out)
			}
			continue
		}
		out = missingFields(f.msg, sub, prefix+f.name+".", out)
	}
	return out
}

// callTypes are the call type names this master recognises; an unknown name
// is dropped as Mesos drops unknown optional enum values.
var callTypes = map[mesos.CallType]bool{
	mesos.CallUnknown: true, mesos.CallSubscribe: true, mesos.CallTeardown: true,
	mesos.CallAccept: true, mesos.CallDecline: true, mesos.CallRevive: true,
	mesos.CallKill: true, mesos.CallShutdown: true, mesos.CallAcknowledge: true,
	mesos.CallReconcile: true, mesos.CallMessage: true, mesos.CallRequest: true,
	mesos.CallSuppress: true, mesos.CallAcceptInverseOffers: true,
	mesos.CallDeclineInverseOffers: true, mesos.CallAcknowledgeOperationStatus: true,
	mesos.CallReconcileOperations: true, mesos.CallUpdateFramework: true,
}

// parseCall decodes a JSON call as Mesos does and returns the 400 body on
// failure.
func parseCall(body []byte) (*mesos.Call, string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, "Failed to parse body into JSON: " + err.Error()
	}
	if dec.More() {
		return nil, "Failed to parse body into JSON: trailing data after the JSON value"
	}
	if _, ok := tree.(map[string]any); !ok {
		return nil, "Failed to convert JSON into Call protobuf: Expecting a JSON object"
	}
	const convert = "Failed to convert JSON into Call protobuf: "
	if name, bad := checkEnums(callSchema, tree); bad {
		return nil, convert + "Not expecting a JSON number for field '" + name + "'"
	}
	var call mesos.Call
	if err := json.Unmarshal(body, &call); err != nil {
		return nil, convert + strings.TrimPrefix(err.Error(), "json: ")
	}
	if missing := missingFields(callSchema, tree, "", nil); len(missing) > 0 {
		return nil, convert + "Missing required fields: " + strings.Join(missing, ", ")
	}
	if !callTypes[call.Type] {
		call.Type = ""
	}
	return &call, ""
}

// validateCall applies Mesos's scheduler::Call validation; the error text
// follows "Failed to validate scheduler::Call: ". principal is the
// authenticated principal, "" without authentication.
func validateCall(c *mesos.Call, principal string) string {
	if c.Type == "" {
		return "Expecting 'type' to be present"
	}
	if c.Type == mesos.CallSubscribe {
		if c.Subscribe == nil {
			return "Expecting 'subscribe' to be present"
		}
		if !sameFrameworkID(c.FrameworkID, c.Subscribe.FrameworkInfo.ID) {
			return "'framework_id' differs from 'subscribe.framework_info.id'"
		}
		if p := c.Subscribe.FrameworkInfo.Principal; principal != "" && p != "" && p != principal {
			return "Authenticated principal '" + principal + "' does not match principal '" + p + "' set in `FrameworkInfo`"
		}
		return ""
	}
	if c.FrameworkID == nil {
		return "Expecting 'framework_id' to be present"
	}
	present := map[mesos.CallType]bool{
		mesos.CallAccept:                     c.Accept != nil,
		mesos.CallDecline:                    c.Decline != nil,
		mesos.CallAcceptInverseOffers:        len(c.AcceptInverseOffers) > 0 && string(c.AcceptInverseOffers) != "null",
		mesos.CallDeclineInverseOffers:       len(c.DeclineInverseOffers) > 0 && string(c.DeclineInverseOffers) != "null",
		mesos.CallKill:                       c.Kill != nil,
		mesos.CallShutdown:                   c.Shutdown != nil,
		mesos.CallAcknowledge:                c.Acknowledge != nil,
		mesos.CallAcknowledgeOperationStatus: len(c.AcknowledgeOperationStatus) > 0 && string(c.AcknowledgeOperationStatus) != "null",
		mesos.CallReconcile:                  c.Reconcile != nil,
		mesos.CallReconcileOperations:        len(c.ReconcileOperations) > 0 && string(c.ReconcileOperations) != "null",
		mesos.CallMessage:                    c.Message != nil,
		mesos.CallRequest:                    c.Request != nil,
		mesos.CallUpdateFramework:            c.UpdateFramework != nil,
	}
	if ok, needs := present[c.Type]; needs && !ok {
		return fmt.Sprintf("Expecting '%s' to be present", strings.ToLower(string(c.Type)))
	}
	switch c.Type {
	case mesos.CallAcknowledge:
		if len(c.Acknowledge.UUID) != 16 {
			return "Not a valid UUID"
		}
	case mesos.CallUpdateFramework:
		if !sameFrameworkID(c.FrameworkID, c.UpdateFramework.FrameworkInfo.ID) {
			return "'framework_id' differs from 'update_framework.framework_info.id'"
		}
	}
	return ""
}

func sameFrameworkID(a, b *mesos.FrameworkID) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Value == b.Value
}
