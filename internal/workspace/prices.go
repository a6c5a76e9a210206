package workspace

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vestigo-forensics/vestigo/internal/prices"
)

// PricesPath is the price database of the workspace.
func (w *Workspace) PricesPath() string { return filepath.Join(w.dir, "prices.db") }

// Prices opens the price store (package prices); the caller closes it. A
// read-only workspace opens it read-only, and without one gets a nil
// store and no error (a nil store knows no series and no price); a
// writable workspace creates it.
func (w *Workspace) Prices() (*prices.Store, error) {
	path := w.PricesPath()
	if w.opt.ReadOnly {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	} else if err := os.MkdirAll(w.dir, 0o755); err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	return prices.Open(path, prices.Options{ReadOnly: w.opt.ReadOnly, Logger: w.opt.Logger})
}
