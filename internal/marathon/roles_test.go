package marathon

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRolesFor: Marathon 1.10's RoleSettings.forService.
func TestRolesFor(t *testing.T) {
	tests := []struct {
		name     string
		id       PathID
		role     string
		group    GroupRoles
		existing string
		want     RoleSettings
	}{
		{name: "root app", id: "/web", role: "stadion",
			want: RoleSettings{Default: "stadion", Valid: []string{"stadion"}}},
		{name: "root app keeps no other role", id: "/web", role: "stadion", existing: "*",
			want: RoleSettings{Default: "stadion", Valid: []string{"stadion"}}},
		{name: "no mesos role is star", id: "/web",
			want: RoleSettings{Default: "*", Valid: []string{"*"}}},
		{name: "group without enforcement", id: "/dev/team/web", role: "stadion", group: GroupRoles{Known: true},
			want: RoleSettings{Default: "stadion", Valid: []string{"stadion", "dev"}}},
		{name: "new group", id: "/dev/web", role: "stadion",
			want: RoleSettings{Default: "stadion", Valid: []string{"stadion", "dev"}}},
		{name: "enforced group", id: "/dev/web", role: "stadion", group: GroupRoles{Known: true, EnforceRole: true},
			want: RoleSettings{Default: "dev", Valid: []string{"dev"}}},
		{name: "enforced group keeps the existing role", id: "/dev/web", role: "stadion", group: GroupRoles{Known: true, EnforceRole: true}, existing: "stadion",
			want: RoleSettings{Default: "dev", Valid: []string{"dev", "stadion"}}},
		{name: "existing custom role", id: "/dev/app", role: "*", group: GroupRoles{Known: true}, existing: "NotTheDefaultRole",
			want: RoleSettings{Default: "*", Valid: []string{"*", "dev", "NotTheDefaultRole"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := RolesFor(tc.id, tc.role, tc.group, tc.existing)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestAdmitRoles: an app's role defaults to the service's default role,
// a role outside the valid ones is 422 at /role with Marathon's message,
// and acceptedResourceRoles may only name "*" and the app's role.
func TestAdmitRoles(t *testing.T) {
	opts := NormalizeOptions{Roles: func(id PathID) RoleSettings {
		return RolesFor(id, "stadion", GroupRoles{Known: true, EnforceRole: id.Segments()[0] == "prod"}, "")
	}}
	tests := []struct {
		name     string
		body     string
		wantRole string
		want     map[string][]string
	}{
		{name: "default is mesos role", body: `{"id":"/web","cmd":"x"}`, wantRole: "stadion"},
		{name: "enforced group role is the default", body: `{"id":"/prod/web","cmd":"x"}`, wantRole: "prod"},
		{name: "group role allowed", body: `{"id":"/dev/web","cmd":"x","role":"dev"}`, wantRole: "dev"},
		{name: "foreign role", body: `{"id":"/web","cmd":"x","role":"foo"}`,
			want: map[string][]string{"/role": {"got foo, expected one of: [stadion]"}}},
		{name: "star in root", body: `{"id":"/web","cmd":"x","role":"*"}`,
			want: map[string][]string{"/role": {"got *, expected one of: [stadion]"}}},
		{name: "mesos role in enforced group", body: `{"id":"/prod/web","cmd":"x","role":"stadion"}`,
			want: map[string][]string{"/role": {"got stadion, expected one of: [prod]"}}},
		{name: "accepted star and own role", body: `{"id":"/web","cmd":"x","acceptedResourceRoles":["stadion","*"]}`, wantRole: "stadion"},
		{name: "accepted foreign role", body: `{"id":"/web","cmd":"x","acceptedResourceRoles":["slave_public"]}`,
			want: map[string][]string{"/acceptedResourceRoles": {"acceptedResourceRoles can only contain * and stadion"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app, err := ParseApp([]byte(tc.body), opts)
			if tc.want != nil {
				if diff := cmp.Diff(tc.want, details(t, err)); diff != "" {
					t.Errorf("details (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseApp: %v", err)
			}
			if app.Role != tc.wantRole {
				t.Errorf("role = %q, want %q", app.Role, tc.wantRole)
			}
		})
	}
}

// TestAcceptedRolesOfStarApp: with role "*", only "*" is accepted.
func TestAcceptedRolesOfStarApp(t *testing.T) {
	_, err := ParseApp([]byte(`{"id":"/web","cmd":"x","acceptedResourceRoles":["customMesosRole"]}`), NormalizeOptions{})
	want := map[string][]string{"/acceptedResourceRoles": {"acceptedResourceRoles can only contain *"}}
	if diff := cmp.Diff(want, details(t, err)); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
}

// TestAdmitPodRoles: a pod's role defaults and is checked as an app's
// (Marathon 1.10 PodsValidation with RoleSettings.forService).
func TestAdmitPodRoles(t *testing.T) {
	opts := NormalizeOptions{DefaultRole: "stadion", Roles: func(id PathID) RoleSettings {
		return RolesFor(id, "stadion", GroupRoles{Known: true, EnforceRole: id.Segments()[0] == "prod"}, "")
	}}
	pod := func(id, extra string) string {
		return `{"id":"` + id + `","containers":[{"name":"c","resources":{"cpus":0.1,"mem":16},"exec":{"command":{"shell":"sleep 1"}}}]` + extra + `}`
	}
	tests := []struct {
		name     string
		body     string
		wantRole string
		want     map[string][]string
	}{
		{name: "default is mesos role", body: pod("/web", ""), wantRole: "stadion"},
		{name: "enforced group role is the default", body: pod("/prod/web", ""), wantRole: "prod"},
		{name: "group role allowed", body: pod("/dev/web", `,"role":"dev"`), wantRole: "dev"},
		{name: "foreign role", body: pod("/web", `,"role":"foo"`),
			want: map[string][]string{"/role": {"got foo, expected one of: [stadion]"}}},
		{name: "star in root", body: pod("/web", `,"role":"*"`),
			want: map[string][]string{"/role": {"got *, expected one of: [stadion]"}}},
		{name: "mesos role in enforced group", body: pod("/prod/web", `,"role":"stadion"`),
			want: map[string][]string{"/role": {"got stadion, expected one of: [prod]"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePod([]byte(tc.body), opts)
			if tc.want != nil {
				if diff := cmp.Diff(tc.want, details(t, err)); diff != "" {
					t.Errorf("details (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePod: %v", err)
			}
			if p.Role != tc.wantRole {
				t.Errorf("role = %q, want %q", p.Role, tc.wantRole)
			}
		})
	}
}
