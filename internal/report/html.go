package report

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"strings"
)

// RenderHTML renders m as one self-contained HTML5 file: inline CSS and
// inline SVG, no script, no external resource; every text of the Model is
// escaped by html/template. The same Model gives the same bytes.
func RenderHTML(m *Model) ([]byte, error) {
	doc, err := build(context.Background(), m)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, doc); err != nil {
		return nil, fmt.Errorf("report: html: %v", err)
	}
	return buf.Bytes(), nil
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"path": func(c []point) string {
		var b strings.Builder
		for i, p := range c {
			switch {
			case i == 0:
				b.WriteString("M")
			case i%3 == 1:
				b.WriteString(" C")
			}
			fmt.Fprintf(&b, " %s %s", num(p.X), num(p.Y))
		}
		return b.String()
	},
	"points": func(a [3]point) string {
		return fmt.Sprintf("%s,%s %s,%s %s,%s", num(a[0].X), num(a[0].Y), num(a[1].X), num(a[1].Y), num(a[2].X), num(a[2].Y))
	},
	"num": num,
}).Parse(htmlSource))

const htmlSource = `<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Vestigo">
<title>{{.Title}}</title>
<style>
body { font-family: "Go", "DejaVu Sans", "Noto Sans", Arial, sans-serif; font-size: 10.5pt; line-height: 1.45; color: #111827; max-width: 60em; margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 17pt; border-bottom: 2px solid #1f2937; padding-bottom: .2em; margin-top: 2.2em; }
h1#cover { font-size: 22pt; margin-top: .5em; }
h2 { font-size: 13pt; margin-top: 1.6em; }
h3 { font-size: 11pt; margin-top: 1.2em; }
table { border-collapse: collapse; width: 100%; margin: .6em 0 1em; font-size: 9pt; }
th, td { border: 1px solid #d1d5db; padding: .25em .4em; vertical-align: top; text-align: left; }
thead th { background: #f3f4f6; }
table.kv th { width: 30%; background: #f9fafb; font-weight: 600; }
.mono, code, pre { font-family: "Go Mono", "DejaVu Sans Mono", monospace; font-size: 8.5pt; word-break: break-all; }
.num { text-align: right; white-space: nowrap; }
pre { background: #f9fafb; border: 1px solid #e5e7eb; padding: .5em; white-space: pre-wrap; }
figure { margin: 1em 0; }
svg { max-width: 100%; height: auto; }
ul.legend { list-style: none; padding: 0; margin: .3em 0; font-size: 8.5pt; }
ul.legend li { display: inline-block; margin-right: 1.2em; }
footer { margin-top: 3em; font-size: 8.5pt; color: #4b5563; border-top: 1px solid #d1d5db; }
@media print { body { max-width: none; margin: 0; } h1 { break-before: page; } h1#cover { break-before: avoid; } tr { break-inside: avoid; } }
</style>
</head>
<body>
{{range .Blocks}}{{template "block" .}}{{end}}<footer><p>{{.Footer}}</p></footer>
</body>
</html>
{{define "block"}}{{if eq .Kind "h1"}}<h1 id="{{.ID}}">{{.Text}}</h1>
{{else if eq .Kind "h2"}}<h2{{if .ID}} id="{{.ID}}"{{end}}>{{.Text}}</h2>
{{else if eq .Kind "h3"}}<h3>{{.Text}}</h3>
{{else if eq .Kind "p"}}<p>{{.Text}}</p>
{{else if eq .Kind "list"}}<ul>
{{range .Items}}<li>{{.}}</li>
{{end}}</ul>
{{else if eq .Kind "code"}}<pre>{{range $i, $c := .Items}}{{if $i}}
{{end}}{{$c}}{{end}}</pre>
{{else if eq .Kind "kv"}}<table class="kv">
{{range .KV}}<tr><th scope="row">{{.K}}</th><td{{if .Mono}} class="mono"{{end}}>{{.V}}</td></tr>
{{end}}</table>
{{else if eq .Kind "table"}}{{template "table" .Table}}{{else if eq .Kind "diagram"}}{{template "diagram" .}}{{end}}{{end}}
{{define "table"}}<table>
<thead><tr>{{range .Cols}}<th scope="col">{{.Head}}</th>{{end}}</tr></thead>
<tbody>
{{range $r := .Rows}}<tr>{{range $i, $c := $.Cols}}<td{{if $c.Mono}} class="mono"{{else if $c.Right}} class="num"{{end}}>{{index $r $i}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{end}}
{{define "diagram"}}{{$d := .Drawing}}<figure>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{num $d.W}} {{num $d.H}}" width="{{num $d.W}}" height="{{num $d.H}}" role="img" aria-label="{{.Caption}}" font-family="Go, DejaVu Sans, Arial, sans-serif">
<g fill="none" stroke="#374151" stroke-width="0.8">
{{range $d.Edges}}<path d="{{path .Curve}}"/>
{{end}}</g>
<g fill="#374151">
{{range $d.Edges}}<polygon points="{{points .Arrow}}"/>
{{end}}</g>
<g font-size="{{num $d.EdgeFont}}" fill="#111827" text-anchor="middle">
{{range $d.Edges}}{{if .Label}}<text x="{{num .LX}}" y="{{num .LY}}">{{.Label}}</text>
{{end}}{{end}}</g>
<g font-size="{{num $d.NodeFont}}" text-anchor="middle">
{{range $d.Nodes}}<g><title>{{.Full}}</title><rect x="{{num .X}}" y="{{num .Y}}" width="{{num .W}}" height="{{num .H}}" fill="{{.Fill}}" stroke="{{.Stroke}}" stroke-width="1"/><text x="{{num .TX}}" y="{{num .TY}}">{{.Text}}</text></g>
{{end}}</g>
</svg>
<figcaption><ul class="legend">{{range .Legend}}<li><svg xmlns="http://www.w3.org/2000/svg" width="12" height="10" viewBox="0 0 12 10" aria-hidden="true"><rect x="0.5" y="0.5" width="11" height="9" fill="{{.Fill}}" stroke="{{.Stroke}}"/></svg> {{.Text}}</li>{{end}}</ul></figcaption>
</figure>
{{end}}`
