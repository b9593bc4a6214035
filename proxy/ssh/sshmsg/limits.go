package sshmsg

// Bounds on fields that the front door keeps, records or writes to logs.
// The transport already caps a whole packet (about 256 KiB in
// golang.org/x/crypto/ssh), so these bound what one field may hold.
const (
	// MaxTermLen bounds the TERM value of a pty-req. Terminal names in the
	// terminfo database are well under 64 bytes.
	MaxTermLen = 256
	// MaxModesLen bounds the encoded terminal modes of a pty-req: RFC 4254
	// section 8 defines opcodes 1 to 159, each followed by a uint32, so a
	// request that sets every opcode once takes 160*5 bytes.
	MaxModesLen = 1024
	// MaxEnvNameLen and MaxEnvValueLen bound one env request.
	MaxEnvNameLen  = 256
	MaxEnvValueLen = 32 << 10
	// MaxNameLen bounds subsystem and signal names.
	MaxNameLen = 256
	// MaxHostLen bounds a host or address in forwarding messages: a DNS
	// name is at most 253 bytes, and an IPv6 literal with a zone fits.
	MaxHostLen = 255
	// MaxSocketPathLen bounds a Unix socket path in streamlocal messages;
	// Linux sun_path holds 108 bytes, other systems fewer.
	MaxSocketPathLen = 4096
	// MaxX11AuthLen bounds the X11 authentication protocol name and cookie.
	MaxX11AuthLen = 1024
)
