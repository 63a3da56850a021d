package web

import (
	"context"
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

// BareInsertHandler is the benchmarks' second yardstick: a gin engine whose
// webhook route reads the body and answers 200 once store has kept it, 503
// when store fails. cmd/benchhttp gives it one plain insert per request.
func BareInsertHandler(store func(ctx context.Context, body []byte) error) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	g := gin.New()
	g.POST("/webhooks/smscx/:secret", func(c *gin.Context) {
		body, err := io.ReadAll(io.LimitReader(c.Request.Body, 1<<20))
		if err != nil {
			c.Status(http.StatusBadRequest)
			return
		}
		if err := store(c.Request.Context(), body); err != nil {
			c.Status(http.StatusServiceUnavailable)
			return
		}
		c.Status(http.StatusOK)
	})
	return g
}
