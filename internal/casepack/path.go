package casepack

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	maxPath      = 1024 // bytes of an entry's path
	maxComponent = 255  // bytes of one name in it
)

// checkPath tells whether p is a safe entry path: relative, slash-separated,
// clean, valid UTF-8 without control characters, backslashes or drive
// letters. Errors wrap ErrUnsafePath.
func checkPath(p string) error {
	bad := func(why string) error { return fmt.Errorf("%w: %q: %s", ErrUnsafePath, p, why) }
	switch {
	case p == "":
		return bad("empty path")
	case len(p) > maxPath:
		return bad(fmt.Sprintf("over %d bytes", maxPath))
	case !utf8.ValidString(p):
		return bad("not UTF-8")
	case strings.IndexByte(p, 0) >= 0:
		return bad("NUL byte")
	case strings.HasPrefix(p, "/"):
		return bad("absolute path")
	case strings.ContainsRune(p, '\\'):
		return bad("backslash")
	}
	for _, r := range p {
		if unicode.IsControl(r) {
			return bad("control character")
		}
	}
	parts := strings.Split(p, "/")
	if first := parts[0]; len(first) >= 2 && first[1] == ':' && first[0] < utf8.RuneSelf && unicode.IsLetter(rune(first[0])) {
		return bad("drive letter (absolute on Windows)")
	}
	for _, c := range parts {
		switch {
		case c == "":
			return bad("empty name (leading, trailing or double slash)")
		case c == "." || c == "..":
			return bad(fmt.Sprintf("%q in path", c))
		case len(c) > maxComponent:
			return bad(fmt.Sprintf("a name over %d bytes", maxComponent))
		}
	}
	return nil
}

// pathSet collects entry paths and refuses duplicates, names that differ
// only by case (a case-insensitive file system would merge them) and a file
// that is also a directory of another entry.
type pathSet struct {
	files map[string]string // fold(path) → path
	dirs  map[string]string // fold(dir) → dir
}

func newPathSet() *pathSet {
	return &pathSet{files: map[string]string{}, dirs: map[string]string{}}
}

// add records p, which checkPath accepted. Errors wrap ErrUnsafePath.
func (s *pathSet) add(p string) error {
	f := fold(p)
	if prev, ok := s.files[f]; ok {
		if prev == p {
			return fmt.Errorf("%w: duplicate entry %q", ErrUnsafePath, p)
		}
		return fmt.Errorf("%w: %q and %q differ only by case", ErrUnsafePath, prev, p)
	}
	if prev, ok := s.dirs[f]; ok {
		return fmt.Errorf("%w: %q is a file and the directory %q", ErrUnsafePath, p, prev)
	}
	for i := range len(p) {
		if p[i] != '/' {
			continue
		}
		d := p[:i]
		fd := fold(d)
		if prev, ok := s.files[fd]; ok {
			return fmt.Errorf("%w: %q is a file and the directory of %q", ErrUnsafePath, prev, p)
		}
		if prev, ok := s.dirs[fd]; ok && prev != d {
			return fmt.Errorf("%w: directories %q and %q differ only by case", ErrUnsafePath, prev, d)
		}
		s.dirs[fd] = d
	}
	s.files[f] = p
	return nil
}

// fold maps every rune to the smallest rune of its simple case-folding
// orbit, so two strings have the same fold exactly when strings.EqualFold
// holds.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

// checkText checks a manifest or identity text field: valid UTF-8, no
// control characters, at most max bytes, and not empty when required.
func checkText(field, v string, max int, required bool) error {
	switch {
	case required && v == "":
		return fmt.Errorf("%s is empty", field)
	case len(v) > max:
		return fmt.Errorf("%s is over %d bytes", field, max)
	case !utf8.ValidString(v):
		return fmt.Errorf("%s is not UTF-8", field)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s holds a control character", field)
		}
	}
	return nil
}
