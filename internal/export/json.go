package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// canonical decodes JSON into plain values with numbers kept as written.
func canonical(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("export: json: %w", err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		return nil, fmt.Errorf("export: json: %w", err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid("json: more than one JSON value")
	}
	return out, nil
}

// JSON writes v (a finding, or any value that encodes as JSON; raw JSON
// inside it included) as canonical JSON: object keys sorted, numbers as
// written, indented by two spaces, one trailing newline. The same value
// gives the same bytes.
func JSON(w io.Writer, v any) error {
	c, err := canonical(v)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ") // maps encode with sorted keys
	if err != nil {
		return fmt.Errorf("export: json: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("export: json: %w", err)
	}
	return nil
}

// FlattenHeader is the header of Flatten's table.
var FlattenHeader = []string{"field", "value"}

// Flatten turns a JSON value into a table of its leaves: each row is a
// field's path (result.destinations[0].address) and its value as JSON
// writes it (strings without quotes, null as ""), in the canonical order
// of JSON's keys. It is how a finding goes into a spreadsheet whatever its
// kind.
func Flatten(v any) ([][]string, error) {
	c, err := canonical(v)
	if err != nil {
		return nil, err
	}
	var rows [][]string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if len(keys) == 0 {
				rows = append(rows, []string{path, "{}"})
			}
			for _, k := range keys {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, x[k])
			}
		case []any:
			if len(x) == 0 {
				rows = append(rows, []string{path, "[]"})
			}
			for i, e := range x {
				walk(path+"["+strconv.Itoa(i)+"]", e)
			}
		case string:
			rows = append(rows, []string{path, x})
		case json.Number:
			rows = append(rows, []string{path, x.String()})
		case bool:
			rows = append(rows, []string{path, strconv.FormatBool(x)})
		case nil:
			rows = append(rows, []string{path, ""})
		}
	}
	walk("", c)
	return rows, nil
}
