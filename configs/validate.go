package configs

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// validator collects every problem in a decoded, defaulted config.
type validator struct {
	cfg  *Config
	file string
	pos  positions
	errs []*FieldError
}

// validate checks the cross-field rules of cfg and returns every problem,
// in file order, joined with errors.Join.
func validate(cfg *Config, file string, pos positions) error {
	v := &validator{cfg: cfg, file: file, pos: pos}
	v.validateServer()
	v.validateUsers()
	v.validateTargets()
	v.validateContracts()
	v.validateWebhooks()
	return joinFieldErrors(v.errs)
}

func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{File: v.file, Line: v.pos.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// oneOf reports value unless it is one of allowed.
func (v *validator) oneOf(path, value string, allowed ...string) {
	if !slices.Contains(allowed, value) {
		v.fail(path, "%s", notOneOf(value, allowed))
	}
}

// required reports an empty value, with hint as the fix, and returns
// whether the value is set.
func (v *validator) required(path, value, hint string) bool {
	if value == "" {
		v.fail(path, "missing; %s", hint)
		return false
	}
	return true
}

// namePattern matches the names and ids that appear in commands, URLs and
// the SSH user string (login@target).
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// checkName reports a missing name or one that namePattern rejects.
func (v *validator) checkName(path, name, example string) {
	if !v.required(path, name, "add a name such as "+example) {
		return
	}
	if !namePattern.MatchString(name) {
		v.fail(path, "%q contains characters other than letters, digits, '.', '_' and '-', or does not start with a letter or digit; rename it, for example to %s", shorten(name, 60), example)
	}
}

// nameIndex reports values that must be unique but are used twice.
type nameIndex struct {
	v     *validator
	fix   string            // advice for a repeat, such as "give each target a different name"
	first map[string]string // value → path of its first use
}

func (v *validator) newNameIndex(fix string) *nameIndex {
	return &nameIndex{v: v, fix: fix, first: map[string]string{}}
}

// add records value at path; display is how a repeat is shown in the
// message, because some values (key bytes) are not readable.
func (n *nameIndex) add(path, value, display string) {
	if value == "" {
		return
	}
	if first, dup := n.first[value]; dup {
		n.v.fail(path, "%s is already used by %s (line %d); %s", display, first, n.v.pos.line(first), n.fix)
		return
	}
	n.first[value] = path
}

// checkAddress reports an address that is not host:port with a valid port.
// An empty address is allowed; callers decide whether it is required.
func (v *validator) checkAddress(path, address, example string) {
	if address == "" {
		return
	}
	_, port, err := net.SplitHostPort(address)
	if err == nil {
		var number uint64
		number, err = strconv.ParseUint(port, 10, 16)
		if err == nil && number == 0 {
			err = fmt.Errorf("port 0")
		}
	}
	if err != nil {
		v.fail(path, "%q is not a host:port address; write it like %s", address, example)
	}
}

// checkURL reports a value that is not an absolute http or https URL.
func (v *validator) checkURL(path, raw, example string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.fail(path, "%q is not an http or https URL; write a full URL such as %s", shorten(raw, 80), example)
	}
}

// checkAuthorizedKey reports a line that is not a plain authorized_keys
// public key. Options such as from="..." are rejected, because jitgate
// would not enforce them.
func (v *validator) checkAuthorizedKey(path, line string) ssh.PublicKey {
	key, _, options, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	switch {
	case err != nil && strings.Contains(path, ".host_keys"):
		v.fail(path, "%q is not a public host key (%v); paste a line of `ssh-keyscan -t ed25519 HOST` without the host name, or of the host's /etc/ssh/ssh_host_ed25519_key.pub", shorten(line, 40), err)
		return nil
	case err != nil:
		v.fail(path, "%q is not an authorized_keys line (%v); paste the whole line of the .pub file, such as ssh-ed25519 AAAAC3Nza... user@host", shorten(line, 40), err)
		return nil
	case len(options) > 0:
		v.fail(path, "key options %s are not supported; remove them and keep the key type, key and comment", strings.Join(options, ","))
		return nil
	case len(strings.TrimSpace(string(rest))) > 0:
		v.fail(path, "%q contains more than one key; write one key per list entry", shorten(line, 40))
		return nil
	}
	return key
}

// checkTLSFiles reports a certificate without a key, or the reverse, and
// files set together with self_signed.
func (v *validator) checkTLSFiles(path string, tls TLSFiles) {
	switch {
	case (tls.CertFile == "") != (tls.KeyFile == ""):
		v.fail(path, "cert_file and key_file must be set together (cert_file %q, key_file %q); set both, or neither", tls.CertFile, tls.KeyFile)
	case tls.CertFile != "" && tls.SelfSigned:
		v.fail(path+".self_signed", "true together with cert_file %q; remove self_signed to use the files, or remove the files to use a generated certificate", tls.CertFile)
	}
}
