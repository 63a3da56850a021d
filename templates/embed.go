// Package templates embeds the server-rendered HTML templates.
package templates

import "embed"

// FS holds every page and partial template.
//
//go:embed *.html
var FS embed.FS
