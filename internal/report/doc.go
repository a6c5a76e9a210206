// Package report renders a case's court report: a Model (model.go),
// assembled by package workspace from the case store, the indexes, the
// tags, the price series and the saved evaluations, turned into one
// self-contained HTML file (RenderHTML) or a PDF (RenderPDF).
//
// A report has the same sections in both formats: the cover (case
// reference, agency, author, date, Vestigo version, content digest), the
// summary of findings in plain language (flows, the services that can
// receive a legal request with their deposit addresses, the patterns),
// fund-flow diagrams, a table per finding, the addresses with each tag's
// source and confidence, the methodology (each method's description,
// parameters, measured precision and recall with the chain they were
// measured on, and its limits), provenance (the data sources with their
// tip block hashes, the commands that reproduce each finding, how to check
// with a block explorer), the price series used, and the annex (the
// evidence manifest and the audit checkpoint).
//
// Language: headings, sentences, table headers and the names of
// categories, typologies, taint models and methods come from an embedded
// catalogue per language (i18n/*.json: en, sq, mk, sr in Cyrillic,
// sr-Latn); the Model holds only data and identifiers. Languages lists
// them; the catalogue tests check that every language has every key of
// English with the same placeholders, and that the embedded fonts have a
// glyph for every character of every catalogue.
//
// Content digest: ContentDigest is the SHA-256 of the canonical JSON of
// the Model without Created and Digest; Seal stores it in the Model and
// the cover shows it. It changes when any data changes and not when only
// the creation time does.
//
// Determinism: the same Model renders the same bytes. Nothing reads the
// clock or a random source: the PDF's creation and modification dates are
// the Model's Created, its catalogue is sorted, its compression fixed, it
// has no document /ID (fpdf writes one only for encrypted files), and
// "page N of M" is set by laying the document out twice rather than by a
// text alias (so data that looks like an alias stays as it is). Diagrams
// without positions are laid out left to right in layers, as money flows
// (longest-path layers, then barycentre sweeps against crossings; node
// sizes fixed, so the layout does not depend on fonts); the renderers draw
// the same geometry (layout.go) as SVG in HTML and as vector paths in PDF.
//
// Escaping: every text of the Model is untrusted data. HTML is produced by
// html/template, so data is escaped in its context; the file has no
// script, no external resource and no event handler (inline CSS and
// inline SVG only). In the PDF, text is drawn as text: markup and formula
// prefixes (=, +, -, @) are shown literally; nothing is interpreted.
//
// Fonts: the PDF embeds the Go fonts (golang.org/x/image/font/gofont:
// regular, bold, italic, mono; BSD licence) as UTF-8 TrueType subsets. They
// cover Latin (with ë, ç, š, đ, ž, č, ć), Cyrillic (with ѓ, ќ, ѕ, џ, љ, њ,
// ј) and the punctuation the catalogues use; a character without a glyph
// in data (an emoji, CJK text in a label) is drawn as the font's missing
// glyph in the PDF, while the HTML shows it with the reader's fonts.
//
// Errors: a nil Model, a Format other than FormatVersion, a zero Created,
// a language Languages does not list, a Method ID without a catalogue
// entry, or a diagram edge naming a missing node give errors wrapping
// chain.ErrInvalid; failures of fpdf are returned with the prefix
// "report:".
package report
