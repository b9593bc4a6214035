package credentials

import (
	"os"
	"testing"

	"github.com/jitgate/jitgate/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
