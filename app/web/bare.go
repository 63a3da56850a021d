package web

import (
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
)

// BareWebhookHandler is the yardstick of the webhook benchmarks
// (cmd/benchhttp): a gin engine whose webhook route reads the body and
// answers 200, storing nothing. What the real endpoint takes is compared
// with what this handler takes on the same machine in the same run.
func BareWebhookHandler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	g := gin.New()
	g.POST("/webhooks/smscx/:secret", func(c *gin.Context) {
		_, _ = io.Copy(io.Discard, c.Request.Body)
		c.Status(http.StatusOK)
	})
	return g
}
