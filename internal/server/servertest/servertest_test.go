package servertest

import "testing"

func TestWriteConfigLoads(t *testing.T) {
	cfg := Load(t, t.TempDir(), Options{})
	if got := len(cfg.Contracts); got != 2 {
		t.Errorf("contracts = %d, want 2", got)
	}
	if cfg.Contract(Dual).Approval.Quorum != 2 {
		t.Errorf("contract %s quorum = %d, want 2", Dual, cfg.Contract(Dual).Approval.Quorum)
	}
}
