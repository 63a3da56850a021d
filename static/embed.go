// Package static embeds the stylesheets, scripts and images served under /static/.
package static

import "embed"

// FS holds the static assets.
//
//go:embed *.css *.js *.svg
var FS embed.FS
