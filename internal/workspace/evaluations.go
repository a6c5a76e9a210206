package workspace

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/evaluate"
)

// EvaluationsDir holds the saved reports of vestigo heuristics evaluate,
// one file per chain they were measured on:
// DATA/evaluations/<scenario>-<seed>-<network>.json.
func (w *Workspace) EvaluationsDir() string { return filepath.Join(w.dir, "evaluations") }

var evalNamePart = regexp.MustCompile(`^[a-z0-9_.]{1,64}$`)

// SaveEvaluation writes an evaluation report (atomically) where reports
// quote their measured error rates from, and returns the file. It is not
// a store of the workspace: a read-only workspace saves too.
func (w *Workspace) SaveEvaluation(r *evaluate.Report) (string, error) {
	scenario := strings.ToLower(r.Scenario)
	if scenario == "" {
		scenario = "chain"
	}
	if !evalNamePart.MatchString(scenario) || !evalNamePart.MatchString(r.Network) {
		return "", fmt.Errorf("workspace: evaluation of scenario %q on network %q: not a name for a file", r.Scenario, r.Network)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("workspace: encode evaluation: %w", err)
	}
	path := filepath.Join(w.EvaluationsDir(), fmt.Sprintf("%s-%d-%s.json", scenario, r.Seed, r.Network))
	if err := writeFileAtomic(path, append(data, '\n'), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// Evaluations reads every saved evaluation report, in file name order
// (none saved: nil).
func (w *Workspace) Evaluations() ([]evaluate.Report, error) {
	entries, err := os.ReadDir(w.EvaluationsDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []evaluate.Report
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(w.EvaluationsDir(), n))
		if err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
		var r evaluate.Report
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("workspace: evaluation %s: %w", n, err)
		}
		out = append(out, r)
	}
	return out, nil
}
