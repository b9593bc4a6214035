// Package deploy_test checks the files in deploy/ against the code and
// against each other. The sample config must load as `jitgate serve`
// loads it. The Dockerfile must build a static binary into a non-root
// image whose entry point runs `jitgate serve`. systemd must accept the
// unit.
//
// CI cannot run Docker, so the Dockerfile is checked by reading it: a
// line-based parser (comments, line continuations, stages) and a few
// rules, each tested against a broken copy so the checks can fail. The
// unit is checked with `systemd-analyze verify` when that program exists.
// verify rejects an ExecStart program that does not exist. The test
// therefore verifies a copy of the unit whose program path points at an
// executable it creates, with every other line as written.
package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitgate/jitgate/configs"
)

// Paths that the three deploy files must agree on.
const (
	configPath = "/etc/jitgate/jitgate.yaml"
	stateDir   = "/var/lib/jitgate"
	binaryPath = "/usr/local/bin/jitgate"
)

// verifyTimeout bounds one run of systemd-analyze verify.
const verifyTimeout = 30 * time.Second

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("reading deploy/%s: %v", name, err)
	}
	return string(data)
}

func TestSampleConfigLoads(t *testing.T) {
	cfg, err := configs.Load("jitgate.yaml")
	if err != nil {
		t.Fatalf("configs.Load(deploy/jitgate.yaml) failed:\n%v", err)
	}
	// `jitgate serve` opens only SQLite stores so far.
	if cfg.State.Driver != "sqlite" {
		t.Errorf("state.driver = %q, want sqlite", cfg.State.Driver)
	}
	// The unit's StateDirectory and the image's volume keep exactly this
	// folder, so everything jitgate writes must be inside it.
	written := map[string]string{
		"state.path":           cfg.State.Path,
		"recordings.dir":       cfg.Recordings.Dir,
		"ssh.host_key_file":    cfg.SSH.HostKeyFile,
		"ssh.user_ca_key_file": cfg.SSH.UserCAKeyFile,
	}
	for key, p := range written {
		if !strings.HasPrefix(p, stateDir+"/") {
			t.Errorf("%s = %s, want a path under %s", key, p, stateDir)
		}
	}
	if !strings.HasPrefix(cfg.PublicURL, "https://") {
		t.Errorf("public_url = %s, want an https URL for a production sample", cfg.PublicURL)
	}
	if cfg.Web.TLS.CertFile == "" {
		t.Error("web.tls.cert_file is empty; the sample listens beyond loopback and needs TLS")
	}
	for _, pg := range cfg.Targets.Postgres {
		// Sweep drops leftover roles named jitgate_..., so an admin with
		// that prefix would be dropped too.
		if strings.HasPrefix(pg.AdminUser, "jitgate_") {
			t.Errorf("targets.postgres %s: admin_user %q starts with jitgate_, the prefix of temporary roles", pg.Name, pg.AdminUser)
		}
	}
}

// instruction is one Dockerfile instruction with its continuation lines
// joined.
type instruction struct {
	line int    // line number where it starts
	name string // upper case, such as FROM or RUN
	args string
}

// stage is the instructions from one FROM up to the next.
type stage struct {
	base   string // the image after FROM
	alias  string // the name after AS, or ""
	instrs []instruction
}

// parseDockerfile splits text into stages. It understands comment lines,
// blank lines and lines continued with a trailing backslash, which is all
// that deploy/Dockerfile uses. Parser directives read as comments.
func parseDockerfile(text string) ([]stage, error) {
	var stages []stage
	var pending strings.Builder
	start := 0
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if pending.Len() == 0 {
			start = i + 1
		}
		if body, more := strings.CutSuffix(line, "\\"); more {
			pending.WriteString(body + " ")
			continue
		}
		pending.WriteString(line)
		name, args, _ := strings.Cut(pending.String(), " ")
		pending.Reset()
		in := instruction{line: start, name: strings.ToUpper(name), args: strings.TrimSpace(args)}
		if in.name == "FROM" {
			fields := strings.Fields(in.args)
			s := stage{base: fields[0]}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				s.alias = fields[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			return nil, fmt.Errorf("line %d: %s before the first FROM", in.line, in.name)
		}
		last := &stages[len(stages)-1]
		last.instrs = append(last.instrs, in)
	}
	if pending.Len() > 0 {
		return nil, fmt.Errorf("line %d: the last instruction ends with a backslash", start)
	}
	return stages, nil
}

// checkDockerfile returns what deploy/Dockerfile must not do, one message
// per problem.
func checkDockerfile(stages []stage) []string {
	if len(stages) < 2 {
		return []string{fmt.Sprintf("%d stage(s); want a build stage and a final stage", len(stages))}
	}
	build, final := stages[:len(stages)-1], stages[len(stages)-1]
	var problems []string
	problems = append(problems, checkBuild(build, final)...)
	problems = append(problems, checkFinalUser(final)...)
	problems = append(problems, checkEntrypoint(final)...)
	return problems
}

// checkBuild wants a go build in an earlier stage with CGO_ENABLED=0 set
// before it, the time zone database embedded when the final image is
// empty, and the binary copied from that stage.
func checkBuild(build []stage, final stage) []string {
	var problems []string
	var builder *stage
	for i := range build {
		cgoOff := false
		for _, in := range build[i].instrs {
			if (in.name == "ENV" || in.name == "RUN") && strings.Contains(in.args, "CGO_ENABLED=0") {
				cgoOff = true
			}
			if in.name != "RUN" || !strings.Contains(in.args, "go build") {
				continue
			}
			builder = &build[i]
			if !cgoOff {
				problems = append(problems, fmt.Sprintf("line %d: go build runs without CGO_ENABLED=0 set before it", in.line))
			}
			if final.base == "scratch" && !strings.Contains(in.args, "timetzdata") {
				problems = append(problems, fmt.Sprintf("line %d: go build does not embed time zones (-tags timetzdata), and the scratch image has none", in.line))
			}
		}
	}
	if builder == nil {
		return append(problems, "no stage before the final one runs go build")
	}
	copied := false
	for _, in := range final.instrs {
		if in.name == "COPY" && strings.Contains(in.args, "--from="+builder.alias) && strings.HasSuffix(in.args, " "+binaryPath) {
			copied = true
		}
	}
	if !copied {
		problems = append(problems, fmt.Sprintf("the final stage does not COPY --from=%s the binary to %s", builder.alias, binaryPath))
	}
	return problems
}

// checkFinalUser wants the last USER of the final stage to be neither root
// nor uid 0.
func checkFinalUser(final stage) []string {
	user := ""
	for _, in := range final.instrs {
		if in.name == "USER" {
			user, _, _ = strings.Cut(in.args, ":")
		}
	}
	switch user {
	case "":
		return []string{"the final stage sets no USER, so the container runs as root"}
	case "root", "0":
		return []string{fmt.Sprintf("the final stage runs as USER %s", user)}
	}
	return nil
}

// checkEntrypoint wants an exec-form ENTRYPOINT that runs jitgate serve
// with the config path the unit uses. The exec form makes jitgate PID 1,
// so it receives the SIGTERM of docker stop. The empty image also has no
// shell to run the shell form.
func checkEntrypoint(final stage) []string {
	var entry *instruction
	for i := range final.instrs {
		if final.instrs[i].name == "ENTRYPOINT" {
			entry = &final.instrs[i]
		}
	}
	if entry == nil {
		return []string{"the final stage has no ENTRYPOINT"}
	}
	var argv []string
	if err := json.Unmarshal([]byte(entry.args), &argv); err != nil {
		return []string{fmt.Sprintf("line %d: ENTRYPOINT %s is not in exec form (a JSON array): %v", entry.line, entry.args, err)}
	}
	want := []string{binaryPath, "serve", "--config", configPath}
	if !slices.Equal(argv, want) {
		return []string{fmt.Sprintf("line %d: ENTRYPOINT runs %q, want %q", entry.line, argv, want)}
	}
	return nil
}

func TestDockerfile(t *testing.T) {
	stages, err := parseDockerfile(readFile(t, "Dockerfile"))
	if err != nil {
		t.Fatalf("parsing deploy/Dockerfile: %v", err)
	}
	for _, p := range checkDockerfile(stages) {
		t.Errorf("deploy/Dockerfile: %s", p)
	}
	final := stages[len(stages)-1]
	if !slices.ContainsFunc(final.instrs, func(in instruction) bool {
		return in.name == "VOLUME" && in.args == stateDir
	}) {
		t.Errorf("deploy/Dockerfile: the final stage does not declare VOLUME %s, the state folder of deploy/jitgate.yaml", stateDir)
	}
}

// TestDockerfileChecksFail breaks one rule at a time in a copy of the
// Dockerfile and expects the checks to report it.
func TestDockerfileChecksFail(t *testing.T) {
	text := readFile(t, "Dockerfile")
	cases := []struct {
		name     string
		old, new string
		want     string
	}{
		{"root user", "USER 65532:65532", "USER root", "runs as USER root"},
		{"uid 0", "USER 65532:65532", "USER 0:0", "runs as USER 0"},
		{"no user", "USER 65532:65532", "", "sets no USER"},
		{"cgo on", "ENV CGO_ENABLED=0", "ENV CGO_ENABLED=1", "without CGO_ENABLED=0"},
		{"no tzdata", "-tags timetzdata ", "", "does not embed time zones"},
		{"shell form", `ENTRYPOINT ["/usr/local/bin/jitgate", "serve", "--config", "/etc/jitgate/jitgate.yaml"]`,
			"ENTRYPOINT /usr/local/bin/jitgate serve", "not in exec form"},
		{"other command", `"serve", "--config"`, `"demo", "--config"`, "want"},
		{"one stage", "FROM scratch", "", "want a build stage and a final stage"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(text, tc.old) {
				t.Fatalf("deploy/Dockerfile no longer contains %q; update this case", tc.old)
			}
			stages, err := parseDockerfile(strings.Replace(text, tc.old, tc.new, 1))
			if err != nil {
				t.Fatalf("parsing the broken copy: %v", err)
			}
			problems := strings.Join(checkDockerfile(stages), "\n")
			if !strings.Contains(problems, tc.want) {
				t.Errorf("problems = %q, want one containing %q", problems, tc.want)
			}
		})
	}
}

// unitValues returns every value of key in section of a systemd unit, in
// order. Comment lines start with # or ;.
func unitValues(unit, section, key string) []string {
	var values []string
	current := ""
	for _, raw := range strings.Split(unit, "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			current = strings.Trim(line, "[]")
		case current == section:
			k, v, _ := strings.Cut(line, "=")
			if strings.TrimSpace(k) == key {
				values = append(values, strings.TrimSpace(v))
			}
		}
	}
	return values
}

func TestUnitContent(t *testing.T) {
	unit := readFile(t, "jitgate.service")
	checks := []struct {
		key  string
		want string
	}{
		{"ExecStart", binaryPath + " serve --config " + configPath},
		{"User", "jitgate"},
		{"StateDirectory", path.Base(stateDir)},
		{"StateDirectoryMode", "0700"},
		{"LimitRTPRIO", "1"},
		// A soft limit below the hard one, so SIGXCPU stops the bursts of
		// real-time priority before SIGKILL.
		{"LimitRTTIME", "600ms:1s"},
	}
	for _, c := range checks {
		got := unitValues(unit, "Service", c.key)
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("[Service] %s = %q, want exactly %q", c.key, got, c.want)
		}
	}
	// RestrictRealtime=yes makes the window-end pass's request for
	// real-time priority fail.
	if got := unitValues(unit, "Service", "RestrictRealtime"); len(got) > 0 && got[len(got)-1] != "no" {
		t.Errorf("[Service] RestrictRealtime = %q; it forbids the window-end pass's real-time priority", got)
	}
}

// verifyUnit runs systemd-analyze verify on unit, saved as jitgate.service
// in a new folder with ExecStart's program replaced by an executable
// stub, and returns what it printed.
func verifyUnit(t *testing.T, analyze, unit string) string {
	t.Helper()
	dir := t.TempDir()
	stub := filepath.Join(dir, "jitgate")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(unit, "ExecStart="+binaryPath+" ") {
		t.Fatalf("the unit has no ExecStart=%s line to point at the stub", binaryPath)
	}
	unit = strings.Replace(unit, "ExecStart="+binaryPath+" ", "ExecStart="+stub+" ", 1)
	unitPath := filepath.Join(dir, "jitgate.service")
	if err := os.WriteFile(unitPath, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), verifyTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, analyze, "verify", "--man=no", unitPath).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("systemd-analyze verify did not finish within %s", verifyTimeout)
	}
	if err != nil {
		// The exit status joins the output, so a failure that prints
		// nothing still fails the check.
		out = append(out, []byte("\n(exit: "+err.Error()+")")...)
	}
	return strings.TrimSpace(string(out))
}

// TestUnitVerifies runs systemd-analyze verify, which (in systemd 252)
// exits 0 even for unknown keys and invalid values but prints a warning for
// each, so any output fails the test. A broken copy must print something, which shows
// that the check works on this machine.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed; the unit is not verified")
	}
	unit := readFile(t, "jitgate.service")
	if out := verifyUnit(t, analyze, unit); out != "" {
		t.Errorf("systemd-analyze verify deploy/jitgate.service printed:\n%s", out)
	}

	broken := strings.Replace(unit, "Restart=on-failure", "Restart=sometimes", 1)
	if broken == unit {
		t.Fatal("the unit has no Restart=on-failure line to break; update this test")
	}
	if out := verifyUnit(t, analyze, broken); !strings.Contains(out, "sometimes") {
		t.Errorf("systemd-analyze verify printed %q for Restart=sometimes; want a complaint, or this check cannot fail", out)
	}
}
