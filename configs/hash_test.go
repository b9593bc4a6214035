package configs

import (
	"path/filepath"
	"testing"
)

func TestHashStableAcrossLoads(t *testing.T) {
	path := filepath.Join("examples", "production.yaml")
	first, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range first.Contracts {
		if a, b := first.Contracts[i].Hash(), second.Contracts[i].Hash(); a != b {
			t.Errorf("contract %s: hash %s on the first load, %s on the second", first.Contracts[i].ID, a, b)
		}
	}
}

func TestHashChangesWithTerms(t *testing.T) {
	base := mustParse(t, baseYAML).Contract("base").Hash()
	tests := []struct {
		name  string
		edits []edit
	}{
		{"window max", []edit{{"max: 4h", "max: 5h"}}},
		{"scope role", []edit{{"roles: [readonly]\n    approval", "roles: [readwrite]\n    approval"}}},
		{"quorum", []edit{{"quorum: 1", "quorum: 2"}}},
		{"expires", []edit{{"expires: 2026-12-31", "expires: 2026-12-30"}}},
		{"hours added", []edit{withHours("        time_zone: UTC\n")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := mustParse(t, applyEdits(t, baseYAML, tt.edits)).Contract("base").Hash()
			if changed == base {
				t.Errorf("hash %s did not change", changed)
			}
		})
	}

	t.Run("unrelated setting", func(t *testing.T) {
		other := mustParse(t, applyEdits(t, baseYAML, []edit{{"listen:\n", "log: {level: debug}\nlisten:\n"}})).Contract("base").Hash()
		if other != base {
			t.Errorf("hash changed from %s to %s although the contract did not", base, other)
		}
	})
}
