package postgres

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// jdbcJar is where Debian's libpostgresql-jdbc-java installs pgjdbc.
const jdbcJar = "/usr/share/java/postgresql.jar"

// runJdbcCheck runs testdata/jdbc/JdbcCheck.java against url and returns
// its output.
func runJdbcCheck(t *testing.T, jdbcURL string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "java", "-cp", jdbcJar, "testdata/jdbc/JdbcCheck.java", jdbcURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("JdbcCheck: %v\n%s", err, out)
	}
	return string(out)
}

func TestJdbcMatchesDirect(t *testing.T) {
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("java is not installed")
	}
	if _, err := os.Stat(jdbcJar); err != nil {
		t.Skipf("pgjdbc is not installed at %s (apt-get install libpostgresql-jdbc-java)", jdbcJar)
	}
	e := newEnv(t, envOptions{})
	e.grantAccess("readwrite")
	admin := e.adminConn(e.db)
	admin.Exec(context.Background(), "create schema s1; grant usage on schema s1 to readwrite")
	admin.Close(context.Background())

	params := func(user, password string) string {
		q := url.Values{}
		q.Set("user", user)
		q.Set("password", password)
		q.Set("sslmode", "require")
		q.Set("prepareThreshold", "1")
		q.Set("binaryTransfer", "true")
		q.Set("currentSchema", "s1")
		q.Set("ApplicationName", "b26")
		return q.Encode()
	}
	viaProxy := runJdbcCheck(t, "jdbc:postgresql://127.0.0.1:"+strconv.Itoa(e.port)+"/"+e.db+"?"+params("alice", aliceToken))
	direct := runJdbcCheck(t, "jdbc:postgresql://127.0.0.1:"+strconv.Itoa(e.pg.Port)+"/"+e.db+"?"+params(e.pg.AdminUser, e.pg.AdminPassword))
	t.Logf("pgjdbc output through jitgate:\n%s", viaProxy)
	if viaProxy != direct {
		t.Errorf("pgjdbc through jitgate:\n%s\ndirect:\n%s", viaProxy, direct)
	}
	for _, want := range []string{"metadata columns=4", "fetch rows=20000", "batch rows=5000", "search_path=s1 application_name=b26"} {
		if !strings.Contains(viaProxy, want) {
			t.Errorf("output lacks %q:\n%s", want, viaProxy)
		}
	}
}
