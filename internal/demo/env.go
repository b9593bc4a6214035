package demo

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/localtarget"
)

func (e *Env) fill(pg *localtarget.Postgres, sshd *localtarget.SSHD, p *people, cfgPath string, pt ports) {
	e.Server = fmt.Sprintf("http://127.0.0.1:%d", pt.web)
	e.AliceToken, e.BobToken, e.BobPassword = p.aliceToken, p.bobToken, p.bobPassword
	e.PGHost, e.PGPort, e.PGDatabase = "127.0.0.1", pt.postgres, pgTarget
	e.DirectDBURL = pg.DSN(pg.Database)
	e.ConfigPath = cfgPath
	if sshd != nil {
		e.SSHHost, e.SSHPort = "127.0.0.1", pt.ssh
		e.SSHUser = sshd.Login + "@" + sshTarget
		e.AliceSSHKey = p.aliceKeyPath
	}
}

// vars returns the demo.env keys in the order they are written.
func (e *Env) vars() [][2]string {
	v := [][2]string{
		{"JITGATE_SERVER", e.Server},
		{"ALICE_TOKEN", e.AliceToken},
		{"BOB_TOKEN", e.BobToken},
		{"BOB_PASSWORD", e.BobPassword},
		{"PGHOST", e.PGHost},
		{"PGPORT", strconv.Itoa(e.PGPort)},
		{"PGDATABASE", e.PGDatabase},
		{"PGSSLMODE", "require"},
		{"DIRECT_DATABASE_URL", e.DirectDBURL},
		{"JITGATE_CONFIG", e.ConfigPath},
	}
	if e.SSHUser != "" {
		v = append(v,
			[2]string{"SSH_HOST", e.SSHHost},
			[2]string{"SSH_PORT", strconv.Itoa(e.SSHPort)},
			[2]string{"SSH_USER", e.SSHUser},
			[2]string{"ALICE_SSH_KEY", e.AliceSSHKey},
		)
	}
	return v
}

// writeEnvFile writes the values in shell syntax, each single-quoted.
func writeEnvFile(path string, e *Env) error {
	var b strings.Builder
	b.WriteString("# Written by `jitgate demo`; load with: . " + path + "\n")
	for _, kv := range e.vars() {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("demo: writing %s: %w", path, err)
	}
	return nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printWalkthrough prints, in order, what to type. Commands name the
// running binary by its path, because `make demo` does not put it on PATH.
func printWalkthrough(w io.Writer, e *Env) {
	bin := "jitgate"
	if exe, err := os.Executable(); err == nil && filepath.Base(exe) == "jitgate" {
		bin = exe
	}
	fmt.Fprintf(w, `
jitgate demo is running. Everything listens on 127.0.0.1; Ctrl-C stops it.
Files: %s (values for scripts: %s/demo.env, server log: %s/jitgate.log)

1. As alice, connect to the database through jitgate. psql waits for approval:

     PGPASSWORD=%s psql "host=%s port=%d user=alice dbname=%s sslmode=require"

`, e.Dir, e.Dir, e.Dir, e.AliceToken, e.PGHost, e.PGPort, e.PGDatabase)
	if e.SSHUser != "" {
		fmt.Fprintf(w, `   or log in to the demo host the same way:

     ssh -i %s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p %d %s@%s

   With a terminal, ssh first asks for a reason to show the approver.

`, e.AliceSSHKey, e.SSHPort, e.SSHUser, e.SSHHost)
	} else {
		fmt.Fprintf(w, "   (no SSH target: %s)\n\n", e.SSHSkipped)
	}
	fmt.Fprintf(w, `2. As bob, approve. Open the request link that step 1 printed
   (%s/requests, sign in as bob with password %s), or use the CLI:

     JITGATE_SERVER=%s JITGATE_TOKEN=%s %s requests
     JITGATE_SERVER=%s JITGATE_TOKEN=%s %s approve ID --comment "looks fine"

3. The held session continues. Try: select * from orders;
   The window lasts %s; jitgate warns before the end and then closes the session.

4. Afterwards, look at the evidence:

     JITGATE_SERVER=%s JITGATE_TOKEN=%s %s sessions
     %s audit verify --config %s
     find %s/recordings -type f
     %s replay FILE        (a .cast terminal recording or a .jsonl query log)

Direct connection to the target, bypassing jitgate (for comparison):
     psql "%s"
`, e.Server, e.BobPassword, e.Server, e.BobToken, bin, e.Server, e.BobToken, bin, configs.Duration(e.MaxWindow),
		e.Server, e.BobToken, bin, bin, e.ConfigPath, e.Dir, bin, e.DirectDBURL)
}
