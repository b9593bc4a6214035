package configs

import (
	"slices"
	"strings"
)

// framework is a compliance framework that contracts may map controls to.
type framework struct {
	// minimum is the shortest retention of events and recordings that the
	// framework requires; 0 when it sets no fixed period.
	minimum Duration
	// rule names the requirement behind minimum, for error messages.
	rule string
}

// frameworks are the prefixes a compliance id may carry, as in
// "pci-dss:8.2.7". SOC 2 and ISO/IEC 27001 set no fixed retention period,
// and NIST SP 800-53 (AU-11) leaves it to the organization.
var frameworks = map[string]framework{
	"soc2":       {},
	"iso27001":   {},
	"nist800-53": {},
	"pci-dss": {
		minimum: Duration(365 * day),
		rule:    "PCI DSS v4.0 requirement 10.5.1 keeps audit log history for at least 12 months",
	},
	"hipaa": {
		minimum: Duration(2190 * day),
		rule:    "HIPAA 45 CFR 164.316(b)(2) keeps required documentation for 6 years",
	},
}

func frameworkNames() []string {
	names := make([]string, 0, len(frameworks))
	for name := range frameworks {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// retentionFloor returns the longest retention minimum among the
// frameworks that the compliance ids map to, and the framework that sets
// it. Unknown prefixes are skipped here; validation reports them.
func retentionFloor(compliance []string) (Duration, string) {
	var floor Duration
	var source string
	for _, id := range compliance {
		name, _, _ := strings.Cut(id, ":")
		if f, ok := frameworks[name]; ok && f.minimum > floor {
			floor, source = f.minimum, name
		}
	}
	return floor, source
}

// validateCompliance checks each compliance id and that the retention
// periods meet the minimum of every framework the contract maps to.
func (v *validator) validateCompliance(c *Contract, path string) {
	seen := map[string]string{}
	for i, id := range c.Compliance {
		itemPath := indexPath(path+".compliance", i)
		name, control, found := strings.Cut(id, ":")
		if _, known := frameworks[name]; !found || !known || control == "" {
			v.fail(itemPath, "%q is not a compliance id; write framework:control with framework one of %s, for example pci-dss:8.2.7 or soc2:CC6.1",
				id, strings.Join(frameworkNames(), ", "))
			continue
		}
		if first, dup := seen[id]; dup {
			v.fail(itemPath, "%q is listed twice, first at %s; remove one", id, first)
			continue
		}
		seen[id] = itemPath
	}

	v.checkRetention(c, path+".retention.events", c.Retention.Events)
	v.checkRetention(c, path+".retention.recordings", c.Retention.Recordings)
}

// checkRetention reports a retention period shorter than the longest
// minimum among the contract's frameworks. Defaults already raised omitted
// periods, so only written values can be short; "0s" written explicitly
// counts as 0 even though defaults replaced it.
func (v *validator) checkRetention(c *Contract, path string, retention Duration) {
	floor, source := retentionFloor(c.Compliance)
	if v.pos.explicitZero(path) {
		retention = 0
	}
	if retention >= floor {
		return
	}
	v.fail(path, "%s is shorter than the %s minimum of %s (%s); raise it to at least %s or remove the %s mapping from compliance",
		retention, source, floor, frameworks[source].rule, floor, source)
}
