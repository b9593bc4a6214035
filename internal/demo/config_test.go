package demo

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitgate/jitgate/configs"
	"github.com/jitgate/jitgate/internal/localtarget"
)

func TestDemoConfigLoads(t *testing.T) {
	for _, withSSH := range []bool{true, false} {
		dir := t.TempDir()
		p, err := makePeople(dir)
		if err != nil {
			t.Fatal(err)
		}
		in := configInput{
			pg: &localtarget.Postgres{Port: 54321, Database: "app"}, people: p,
			maxWindow: 7 * time.Minute, pendingTTL: 3 * time.Minute,
		}
		if withSSH {
			pub, _, _ := ed25519.GenerateKey(rand.Reader)
			hk, _ := ssh.NewPublicKey(pub)
			in.sshd = &localtarget.SSHD{Addr: "127.0.0.1:2022", Login: "jitgate-demo", HostKeys: []ssh.PublicKey{hk}}
		}
		path, _, err := writeConfig(dir, in)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := configs.Load(path)
		if err != nil {
			t.Fatalf("ssh=%v: demo config does not load: %v", withSSH, err)
		}
		c := cfg.Contract("demo-access")
		if c == nil || c.Window.Max.Std() != 7*time.Minute {
			t.Fatalf("ssh=%v: demo contract = %+v, want max window 7m", withSSH, c)
		}
		if got := c.CoversSSH("web-1", "jitgate-demo"); got != withSSH {
			t.Errorf("ssh=%v: contract covers web-1 = %v", withSSH, got)
		}
		if !c.CoversPG("app", "readonly") {
			t.Errorf("demo contract does not cover role readonly on app")
		}
	}
}
