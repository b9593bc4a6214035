package configs

import (
	"slices"
	"strings"
	"testing"
)

var lookupUsers = []User{
	{Name: "alice", Groups: []string{"engineers"}},
	{Name: "bob", Groups: []string{"approvers", "engineers"}},
	{Name: "carol", Groups: []string{"approvers"}},
	{Name: "dave"},
}

func TestPrincipalsResolve(t *testing.T) {
	tests := []struct {
		name       string
		principals Principals
		want       []string
	}{
		{"by group", Principals{Groups: []string{"approvers"}}, []string{"bob", "carol"}},
		{"by name and group without repeats", Principals{Users: []string{"carol", "dave"}, Groups: []string{"approvers"}}, []string{"bob", "carol", "dave"}},
		{"unknown names left out", Principals{Users: []string{"zed"}, Groups: []string{"ghosts"}}, nil},
		{"sorted", Principals{Users: []string{"dave", "alice"}}, []string{"alice", "dave"}},
		{"empty", Principals{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.principals.Resolve(lookupUsers); !slices.Equal(got, tt.want) {
				t.Errorf("Resolve = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPrincipalsContains(t *testing.T) {
	p := Principals{Users: []string{"dave"}, Groups: []string{"approvers"}}
	tests := []struct {
		name   string
		user   string
		groups []string
		want   bool
	}{
		{"named user", "dave", nil, true},
		{"member of group", "erin", []string{"staff", "approvers"}, true},
		{"neither", "alice", []string{"engineers"}, false},
		{"group name as user name", "approvers", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Contains(tt.user, tt.groups); got != tt.want {
				t.Errorf("Contains(%q, %v) = %v, want %v", tt.user, tt.groups, got, tt.want)
			}
		})
	}
}

func TestConfigLookups(t *testing.T) {
	cfg := mustParse(t, baseYAML)
	if c := cfg.Contract("base"); c == nil || c.Party != "Test team" {
		t.Errorf("Contract(base) = %v, want the base contract", c)
	}
	if c := cfg.Contract("absent"); c != nil {
		t.Errorf("Contract(absent) = %v, want nil", c)
	}
	if target := cfg.SSHTarget("web-1"); target == nil || target.Address != "127.0.0.1:2201" {
		t.Errorf("SSHTarget(web-1) = %v, want web-1", target)
	}
	if target := cfg.SSHTarget("app"); target != nil {
		t.Errorf("SSHTarget(app) = %v, want nil because app is a Postgres target", target)
	}
	if target := cfg.PGTarget("app"); target == nil || target.Database != "app" {
		t.Errorf("PGTarget(app) = %v, want app with database app", target)
	}
	if u := cfg.User("bob"); u == nil || u.Groups[0] != "approvers" {
		t.Errorf("User(bob) = %v, want bob", u)
	}
	if u := cfg.User("zed"); u != nil {
		t.Errorf("User(zed) = %v, want nil", u)
	}
}

func TestContractCovers(t *testing.T) {
	c := mustParse(t, baseYAML).Contract("base")
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"ssh login in scope", c.CoversSSH("web-1", "deploy"), true},
		{"ssh login not in scope", c.CoversSSH("web-1", "root"), false},
		{"ssh target not in scope", c.CoversSSH("web-2", "deploy"), false},
		{"postgres target as ssh", c.CoversSSH("app", "readonly"), false},
		{"pg role in scope", c.CoversPG("app", "readonly"), true},
		{"pg role on target but not in scope", c.CoversPG("app", "readwrite"), false},
		{"ssh target as pg", c.CoversPG("web-1", "deploy"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestContractStages(t *testing.T) {
	single := mustParse(t, baseYAML).Contract("base").Stages()
	if len(single) != 1 || single[0].Name != "approval" || single[0].Quorum != 1 || single[0].Approvers.Groups[0] != "approvers" {
		t.Errorf("Stages() without stages = %+v, want one stage named approval with quorum 1", single)
	}

	text := applyEdits(t, baseYAML, []edit{{approvalBlock + "    window:", strings.Replace(stagesApproval, "quorum: 3 #<", "quorum: 2", 1)}})
	staged := mustParse(t, text).Contract("base").Stages()
	if len(staged) != 2 || staged[0].Name != "manager" || staged[1].Name != "owner" {
		t.Fatalf("Stages() = %+v, want manager then owner", staged)
	}
	if staged[0].Quorum != 1 || staged[1].Quorum != 2 {
		t.Errorf("quorums = %d, %d; want 1 (default), 2", staged[0].Quorum, staged[1].Quorum)
	}
}

func TestMatchTicket(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		ticket  string
		want    bool
	}{
		{"full match", "INC-[0-9]+", "INC-42", true},
		{"prefix only is not enough", "INC-[0-9]+", "INC-42 and more", false},
		{"anchored pattern", "^SUP-[0-9]+$", "SUP-7", true},
		{"alternation is anchored as a whole", "INC|CHG", "xCHG", false},
		{"empty pattern accepts anything", "", "whatever", true},
		{"invalid pattern accepts nothing", "(", "(", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules := RequestRules{TicketPattern: tt.pattern}
			if got := rules.MatchTicket(tt.ticket); got != tt.want {
				t.Errorf("MatchTicket(%q) with %q = %v, want %v", tt.ticket, tt.pattern, got, tt.want)
			}
		})
	}
}
