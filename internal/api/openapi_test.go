package api

import (
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

type openAPIDoc struct {
	OpenAPI string                                 `json:"openapi"`
	Paths   map[string]map[string]openAPIOperation `json:"paths"`
}

type openAPIOperation struct {
	Summary     string         `json:"summary"`
	OperationID string         `json:"operationId"`
	Permission  string         `json:"x-vestigo-permission"`
	Parameters  []openAPIParam `json:"parameters"`
	RequestBody map[string]any `json:"requestBody"`
	Responses   map[string]any `json:"responses"`
	Security    *[]any         `json:"security"`
}

type openAPIParam struct {
	Name     string         `json:"name"`
	In       string         `json:"in"`
	Required bool           `json:"required"`
	Schema   map[string]any `json:"schema"`
}

var wildcard = regexp.MustCompile(`\{([^}]+)\}`)

// TestOpenAPIMatchesTheMux fetches /api/v1/openapi.json and compares it
// with what the mux serves: the same operations, each routed by the mux to
// its own pattern, with the path parameters of its path, the query
// parameters the middleware accepts and the permission it enforces.
func TestOpenAPIMatchesTheMux(t *testing.T) {
	e := newEnv(t)
	var doc openAPIDoc
	e.do("GET", "/api/v1/openapi.json", e.token("ro-a"), nil).want(200).decode(&doc)
	if doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	var documented []string
	ids := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			pattern := strings.ToUpper(method) + " " + path
			documented = append(documented, pattern)
			if op.Summary == "" || op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s: summary %q, operationId %q (unique)", pattern, op.Summary, op.OperationID)
			}
			ids[op.OperationID] = true
			// The mux routes a request of this operation to this pattern.
			req := httptest.NewRequest(strings.ToUpper(method), concrete(path, "1"), nil)
			if _, got := e.srv.mux.Handler(req); got != pattern {
				t.Errorf("%s: the mux routes %s %s to %q", pattern, req.Method, req.URL.Path, got)
			}
			// Path parameters are exactly the path's wildcards.
			var inPath, wild []string
			for _, p := range op.Parameters {
				if p.In == "path" {
					inPath = append(inPath, p.Name)
					if !p.Required {
						t.Errorf("%s: path parameter %s not required", pattern, p.Name)
					}
				}
			}
			for _, m := range wildcard.FindAllStringSubmatch(path, -1) {
				wild = append(wild, m[1])
			}
			sort.Strings(inPath)
			sort.Strings(wild)
			if !slices.Equal(inPath, wild) {
				t.Errorf("%s: path parameters %v, wildcards %v", pattern, inPath, wild)
			}
			rt := e.routeOf(pattern)
			if rt == nil {
				continue
			}
			if op.Permission != rt.perm.String() {
				t.Errorf("%s: documented permission %q, enforced %q", pattern, op.Permission, rt.perm)
			}
			if (op.Security != nil && len(*op.Security) == 0) != (rt.perm == permPublic) {
				t.Errorf("%s: documented as public %v, public %v", pattern, op.Security != nil, rt.perm == permPublic)
			}
			if (op.RequestBody != nil) != (rt.body != bodyNone) {
				t.Errorf("%s: documented body %v, takes a body %v", pattern, op.RequestBody != nil, rt.body != bodyNone)
			}
			var docNames, routeNames []string
			for _, p := range op.Parameters {
				docNames = append(docNames, p.In+":"+p.Name)
			}
			for _, p := range rt.params {
				in := "query"
				if p.inPath {
					in = "path"
				}
				routeNames = append(routeNames, in+":"+p.name)
			}
			if !slices.Equal(docNames, routeNames) {
				t.Errorf("%s: documented parameters %v, accepted %v", pattern, docNames, routeNames)
			}
		}
	}
	sort.Strings(documented)
	served := slices.Clone(e.srv.patterns)
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Fatalf("the document and the mux differ:\ndocumented %v\nserved     %v", documented, served)
	}
	if len(served) != len(e.srv.routes) || len(served) < 60 {
		t.Fatalf("%d patterns for %d routes", len(served), len(e.srv.routes))
	}
	// Every request schema a route names exists.
	for _, rt := range e.srv.routes {
		if rt.body == bodyJSON {
			if _, ok := requestTypes[rt.request]; !ok {
				t.Errorf("%s %s: no schema %q", rt.method, rt.path, rt.request)
			}
		}
	}
}

func (e *env) routeOf(pattern string) *route {
	for _, rt := range e.srv.routes {
		if rt.method+" "+rt.path == pattern {
			return rt
		}
	}
	e.t.Errorf("%s is documented but not in the route table", pattern)
	return nil
}
