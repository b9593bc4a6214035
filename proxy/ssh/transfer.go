package sshproxy

import (
	"path"
	"strings"
)

// transferPrograms are the programs whose exec commands carry a file
// transfer protocol, not terminal output: legacy scp (-t, -f), rsync in
// server mode, and git over SSH.
var transferPrograms = map[string]bool{
	"scp":                true,
	"rsync":              true,
	"git-upload-pack":    true,
	"git-receive-pack":   true,
	"git-upload-archive": true,
}

// shellSpecial are the characters that let a command run more than the
// program it names (command lists, pipes, substitutions, redirections).
const shellSpecial = ";&|`$()<>\n\r"

// isTransfer reports whether a session runs a file transfer, whose bytes
// the recording leaves out: the sftp subsystem, or an exec of one of
// transferPrograms with no shell syntax that could run anything else.
func isTransfer(kind, command string) bool {
	switch kind {
	case "subsystem":
		return command == "sftp"
	case "exec":
		fields := strings.Fields(command)
		if len(fields) == 0 || strings.ContainsAny(command, shellSpecial) {
			return false
		}
		return transferPrograms[path.Base(fields[0])] && transferMode(path.Base(fields[0]), fields[1:])
	}
	return false
}

// transferMode reports whether the arguments put scp or rsync in the
// server mode that the client side of a transfer starts, so `rsync
// --version` or a plain `scp a b` on the target is recorded as usual.
func transferMode(program string, args []string) bool {
	switch program {
	case "scp":
		for _, a := range args {
			if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a, "tf") {
				return true
			}
		}
		return false
	case "rsync":
		return len(args) > 0 && args[0] == "--server"
	}
	return true
}
