package index

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble"
)

// Source says where the index's blocks came from, for the provenance of
// every fact read from it: Kind "block files" or "rpc", Location the
// directory or the node's URL (never with credentials), NodeVersion what
// the node reported, Updated when blocks last came from it.
type Source struct {
	Kind        string    `json:"kind"`
	Location    string    `json:"location"`
	NodeVersion string    `json:"node_version,omitempty"`
	Updated     time.Time `json:"updated"`
}

var keySource = []byte{tMeta, 's', 'o', 'u', 'r', 'c', 'e'}

// SetSource records where the blocks come from (each import or sync).
func (ix *Index) SetSource(s Source) error {
	if ix.readOnly {
		return fmt.Errorf("index: %s is opened read-only", ix.dir)
	}
	v, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if err := ix.db.Set(keySource, v, pebble.Sync); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// Source returns where the blocks came from; ok is false for an index
// that never recorded it.
func (ix *Index) Source() (s Source, ok bool, err error) {
	v, closer, err := ix.db.Get(keySource)
	if errors.Is(err, pebble.ErrNotFound) {
		return Source{}, false, nil
	}
	if err != nil {
		return Source{}, false, fmt.Errorf("index: %w", err)
	}
	defer closer.Close()
	if err := json.Unmarshal(v, &s); err != nil {
		return Source{}, false, fmt.Errorf("index: source record: %w", err)
	}
	return s, true, nil
}
