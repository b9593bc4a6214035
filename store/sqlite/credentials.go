package sqlite

import (
	"context"
	"fmt"

	"github.com/jitgate/jitgate/store"
)

var credentialsTable = table{
	name: "credentials",
	columns: []string{
		"grant_id", "kind", "target", "name", "state", "created_at",
		"expires_at", "revoked_at",
	},
}

func credentialValues(c *store.Credential) []any {
	return []any{
		c.GrantID, c.Kind, c.Target, c.Name, c.State, timeValue(c.CreatedAt),
		timeValue(c.ExpiresAt), timeValue(c.RevokedAt),
	}
}

func scanCredential(row scanner) (*store.Credential, error) {
	c := &store.Credential{}
	err := row.Scan(
		&c.ID,
		&c.GrantID, &c.Kind, &c.Target, &c.Name, &c.State, timeScan{&c.CreatedAt},
		timeScan{&c.ExpiresAt}, timeScan{&c.RevokedAt},
	)
	return c, err
}

func (r reader) Credentials(ctx context.Context, f store.CredentialFilter) ([]*store.Credential, error) {
	var w where
	w.equalID("grant_id", f.GrantID)
	w.equal("target", f.Target)
	in(&w, "state", f.States)
	query := credentialsTable.selectSQL() + w.String() + " ORDER BY id DESC"
	cs, err := list(ctx, r.q, query, w.args, scanCredential)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list credentials: %w", err)
	}
	return cs, nil
}

// CreateCredential inserts c and sets c.ID. A missing grant returns a
// wrapped store.ErrNotFound.
func (t *tx) CreateCredential(ctx context.Context, c *store.Credential) error {
	id, err := t.create(ctx, credentialsTable, "credential", credentialValues(c))
	if err != nil {
		return err
	}
	c.ID = id
	return nil
}

func (t *tx) UpdateCredential(ctx context.Context, c *store.Credential) error {
	return t.update(ctx, credentialsTable, "credential", c.ID, credentialValues(c))
}
