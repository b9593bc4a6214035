package postgres

import (
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/proxy/postgres/wire"
)

// authenticate requests the password in clear text, once, and checks it
// as the person's API token. The token must belong to the user named in
// the startup packet. PostgreSQL also accepts one password per
// connection, and a client whose password fails reconnects.
func (c *clientConn) authenticate() (*identity.Person, error) {
	if err := c.out.send(wire.AppendMessage(nil, &pgproto3.AuthenticationCleartextPassword{})); err != nil {
		return nil, err
	}
	typ, body, err := wire.ReadMessage(c.r, wire.MaxPasswordLen)
	if err != nil {
		return nil, err
	}
	token, err := wire.PasswordFromMessage(typ, body)
	if err != nil {
		return nil, err
	}
	p, ok := c.srv.opts.Identity.ByToken(token)
	if !ok || p.Name != c.req.user {
		// The same message for an unknown token and someone else's, as
		// PostgreSQL gives one message for every failed password.
		return nil, reject(wire.CodeInvalidPassword, "password authentication failed for user %q", c.req.user).
			withHint("The password is your jitgate API token.")
	}
	return p, nil
}
