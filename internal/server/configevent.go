package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/jitgate/jitgate/audit"
)

// systemActor is the actor of audit events that the server itself causes.
const systemActor = "jitgate"

// contractRef pins one contract version in the config.loaded event.
type contractRef struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	Hash    string `json:"hash"`
}

// recordConfigLoaded appends a config.loaded event with the SHA-256 of the
// config file and the id, version and hash of each contract, so the audit
// chain shows which terms were in force from this start on.
func (s *Server) recordConfigLoaded(ctx context.Context) error {
	fileHash := ""
	if s.cfg.Path != "" {
		data, err := os.ReadFile(s.cfg.Path)
		if err != nil {
			return fmt.Errorf("server: reading %s to hash it for the audit log: %w", s.cfg.Path, err)
		}
		sum := sha256.Sum256(data)
		fileHash = hex.EncodeToString(sum[:])
	}
	contracts := make([]contractRef, len(s.cfg.Contracts))
	for i := range s.cfg.Contracts {
		c := &s.cfg.Contracts[i]
		contracts[i] = contractRef{ID: c.ID, Version: c.Version, Hash: c.Hash()}
	}
	err := s.engine.RecordEvent(ctx, audit.Entry{
		Type:  audit.ConfigLoaded,
		Actor: systemActor,
		Details: map[string]any{
			"path": s.cfg.Path, "sha256": fileHash, "contracts": contracts,
		},
	})
	if err != nil {
		return fmt.Errorf("server: recording the config load in the audit log: %w", err)
	}
	s.log.Info("config loaded", "path", s.cfg.Path, "sha256", fileHash, "contracts", len(contracts))
	return nil
}
